// Little-endian byte writer and a bounds-checked reader for the bundle format.
// The reader never reads past its span: every read names what it was reading,
// and the first failure is kept (with its absolute offset) as the error.
#pragma once
#include <bit>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace dockpol::rt::detail {

class byte_writer {
public:
    void u8(std::uint8_t v) { out_.push_back(v); }
    void u16(std::uint16_t v) { put_le(v, 2); }
    void u32(std::uint32_t v) { put_le(v, 4); }
    void u64(std::uint64_t v) { put_le(v, 8); }
    void f64(double v) { u64(std::bit_cast<std::uint64_t>(v)); }
    void bytes(std::span<const std::uint8_t> b) { out_.insert(out_.end(), b.begin(), b.end()); }
    // A length-prefixed (u32) byte string.
    void str(std::string_view s) {
        u32(static_cast<std::uint32_t>(s.size()));
        out_.insert(out_.end(), s.begin(), s.end());
    }
    // Overwrites 4 bytes at `at` (used to patch a section length).
    void patch_u32(std::size_t at, std::uint32_t v) {
        for (int i = 0; i < 4; ++i) out_[at + i] = static_cast<std::uint8_t>(v >> (8 * i));
    }
    std::size_t size() const { return out_.size(); }
    std::vector<std::uint8_t>& data() { return out_; }

private:
    void put_le(std::uint64_t v, int n) {
        for (int i = 0; i < n; ++i) out_.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
    }
    std::vector<std::uint8_t> out_;
};

class byte_reader {
public:
    // `base` is the absolute offset of data[0] in the whole bundle, for messages.
    explicit byte_reader(std::span<const std::uint8_t> data, std::size_t base = 0) : data_(data), base_(base) {}

    bool ok() const { return error_.empty(); }
    const std::string& error() const { return error_; }
    std::size_t remaining() const { return data_.size() - pos_; }
    std::size_t offset() const { return base_ + pos_; }
    bool at_end() const { return pos_ == data_.size(); }

    bool u8(std::uint8_t& v, std::string_view what) { return get_le(v, 1, what); }
    bool u16(std::uint16_t& v, std::string_view what) { return get_le(v, 2, what); }
    bool u32(std::uint32_t& v, std::string_view what) { return get_le(v, 4, what); }
    bool u64(std::uint64_t& v, std::string_view what) { return get_le(v, 8, what); }
    bool f64(double& v, std::string_view what) {
        std::uint64_t bits = 0;
        if (!u64(bits, what)) return false;
        v = std::bit_cast<double>(bits);
        return true;
    }
    // `n` raw bytes as a view into the span.
    bool bytes(std::span<const std::uint8_t>& v, std::size_t n, std::string_view what) {
        if (!need(n, what)) return false;
        v = data_.subspan(pos_, n);
        pos_ += n;
        return true;
    }
    // A u32-length-prefixed string of at most `max_len` bytes.
    bool str(std::string& v, std::size_t max_len, std::string_view what) {
        std::uint32_t n = 0;
        if (!u32(n, what)) return false;
        if (n > max_len)
            return fail(std::string(what) + ": length " + std::to_string(n) + " exceeds limit " +
                        std::to_string(max_len));
        std::span<const std::uint8_t> b;
        if (!bytes(b, n, what)) return false;
        v.assign(reinterpret_cast<const char*>(b.data()), b.size());
        return true;
    }
    // A u32 element count, checked against a limit and against the bytes left
    // (each element needs at least `min_elem_bytes`), so no huge allocation happens.
    bool count(std::uint32_t& n, std::size_t max_count, std::size_t min_elem_bytes, std::string_view what) {
        if (!u32(n, what)) return false;
        if (n > max_count)
            return fail(std::string(what) + ": count " + std::to_string(n) + " exceeds limit " +
                        std::to_string(max_count));
        if (min_elem_bytes && n > remaining() / min_elem_bytes)
            return fail(std::string(what) + ": count " + std::to_string(n) + " does not fit in the " +
                        std::to_string(remaining()) + " bytes left");
        return true;
    }
    // Records the first error with the current offset; always returns false.
    bool fail(std::string msg) {
        if (error_.empty()) error_ = msg + " (at offset " + std::to_string(offset()) + ")";
        return false;
    }

private:
    bool need(std::size_t n, std::string_view what) {
        if (!ok()) return false;
        if (n > remaining())
            return fail("truncated: reading " + std::string(what) + " needs " + std::to_string(n) + " bytes, " +
                        std::to_string(remaining()) + " left");
        return true;
    }
    template <class T>
    bool get_le(T& v, int n, std::string_view what) {
        if (!need(static_cast<std::size_t>(n), what)) return false;
        std::uint64_t acc = 0;
        for (int i = 0; i < n; ++i) acc |= static_cast<std::uint64_t>(data_[pos_ + i]) << (8 * i);
        pos_ += static_cast<std::size_t>(n);
        v = static_cast<T>(acc);
        return true;
    }

    std::span<const std::uint8_t> data_;
    std::size_t base_ = 0;
    std::size_t pos_ = 0;
    std::string error_;
};

} // namespace dockpol::rt::detail
