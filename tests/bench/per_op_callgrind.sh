# Sourced by the *_callgrind.sh scripts: instructions per operation of a
# bench that takes `--mode MODE --iterations N`, counted by callgrind. Each
# mode runs twice (N and 2N operations) and the difference divided by N is
# the per-operation cost, free of start-up and setup. Instruction counts do
# not depend on machine load, unlike the benches' timings.
# Needs $bench (the executable) set by the caller.

# Total instructions (Ir) of one run of MODE with COUNT operations.
ir() {
    valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bench" --mode "$1" --iterations "$2" 2>&1 |
        sed -n 's/.*refs: *//p' | tr -d ','
}

# Ir per operation of MODE, from runs of COUNT and 2*COUNT operations.
per_op() {
    a=$(ir "$1" "$2")
    b=$(ir "$1" $((2 * $2)))
    echo $(((b - a) / $2))
}
