// Prometheus text exposition (format 0.0.4) and a lock-free histogram.
// The request path only calls histogram::observe (a few relaxed atomic adds);
// the admin endpoint renders everything into one string per scrape.
#pragma once
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include <fmt/format.h>

namespace dockpol::sidecar {

// Upper bounds (seconds) of the decision histogram: a decision takes about a
// microsecond, body inspection up to a few hundred.
inline constexpr std::array<double, 10> decision_buckets = {1e-6, 2.5e-6, 5e-6, 1e-5, 2.5e-5,
                                                           5e-5, 1e-4, 2.5e-4, 1e-3, 1e-2};
// Upper bounds (seconds) of the request histogram: from a cached ping to a long pull.
inline constexpr std::array<double, 14> request_buckets = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                                          0.25,  0.5,    1,     2.5,  5,     10,  60};

// Buckets hold non-cumulative counts; rendering accumulates them, so observe()
// touches exactly one bucket. The sum is kept in nanoseconds because
// std::atomic<double>::fetch_add is not lock-free everywhere.
template <std::size_t N>
class histogram {
public:
    explicit constexpr histogram(const std::array<double, N>& bounds) : bounds_(bounds) {}

    void observe(std::chrono::nanoseconds d) {
        const double secs = std::chrono::duration<double>(d).count();
        std::size_t i = 0;
        while (i < N && secs > bounds_[i]) ++i;
        counts_[i].fetch_add(1, std::memory_order_relaxed);
        const auto ns = d.count() < 0 ? 0 : static_cast<std::uint64_t>(d.count());
        sum_ns_.fetch_add(ns, std::memory_order_relaxed);
    }

    const std::array<double, N>& bounds() const { return bounds_; }
    // Observations in bucket i (the last one, index N, is above every bound).
    std::uint64_t bucket(std::size_t i) const { return counts_[i].load(std::memory_order_relaxed); }
    double sum_seconds() const { return static_cast<double>(sum_ns_.load(std::memory_order_relaxed)) / 1e9; }

private:
    std::array<double, N> bounds_;
    std::array<std::atomic<std::uint64_t>, N + 1> counts_{};
    std::atomic<std::uint64_t> sum_ns_{0};
};

using decision_histogram = histogram<decision_buckets.size()>;
using request_histogram = histogram<request_buckets.size()>;

// dockpol_decision_seconds (bind + evaluate) and dockpol_request_seconds (head read to audit line).
struct latency_metrics {
    decision_histogram decision_seconds{decision_buckets};
    request_histogram request_seconds{request_buckets};
};

using label = std::pair<std::string_view, std::string_view>;

// Builds one exposition document. Families must be written whole (HELP, TYPE,
// then their samples), which the helpers below guarantee.
class exposition {
public:
    void family(std::string_view name, std::string_view type, std::string_view help) {
        out_ += "# HELP ";
        out_ += name;
        out_.push_back(' ');
        append_help(help);
        out_ += "\n# TYPE ";
        out_ += name;
        out_.push_back(' ');
        out_ += type;
        out_.push_back('\n');
    }

    void sample(std::string_view name, std::span<const label> labels, double value) {
        begin_sample(name, labels);
        append_number(value);
        out_.push_back('\n');
    }
    void sample(std::string_view name, std::span<const label> labels, std::uint64_t value) {
        begin_sample(name, labels);
        fmt::format_to(std::back_inserter(out_), "{}\n", value);
    }
    void sample(std::string_view name, std::span<const label> labels, std::int64_t value) {
        begin_sample(name, labels);
        fmt::format_to(std::back_inserter(out_), "{}\n", value);
    }

    // A whole counter or gauge family with one unlabelled sample.
    template <typename T>
    void single(std::string_view name, std::string_view type, std::string_view help, T value) {
        family(name, type, help);
        sample(name, {}, value);
    }

    template <std::size_t N>
    void histogram_family(std::string_view name, std::string_view help, const histogram<N>& h) {
        family(name, "histogram", help);
        const std::string bucket_name = std::string(name) + "_bucket";
        std::uint64_t cumulative = 0;
        for (std::size_t i = 0; i <= N; ++i) {
            cumulative += h.bucket(i);
            const std::string le = i < N ? number_text(h.bounds()[i]) : std::string("+Inf");
            const label l[] = {{"le", le}};
            sample(bucket_name, l, cumulative);
        }
        sample(std::string(name) + "_sum", {}, h.sum_seconds());
        sample(std::string(name) + "_count", {}, cumulative);
    }

    const std::string& text() const { return out_; }
    std::string take() { return std::move(out_); }

    // Shortest text that reads back as the same double (Prometheus accepts Go float syntax).
    static std::string number_text(double v) { return fmt::format("{}", v); }

private:
    void begin_sample(std::string_view name, std::span<const label> labels) {
        out_ += name;
        if (!labels.empty()) {
            out_.push_back('{');
            for (std::size_t i = 0; i < labels.size(); ++i) {
                if (i) out_.push_back(',');
                out_ += labels[i].first;
                out_ += "=\"";
                append_label_value(labels[i].second);
                out_.push_back('"');
            }
            out_.push_back('}');
        }
        out_.push_back(' ');
    }

    // The format escapes exactly backslash, double quote and newline in label values.
    void append_label_value(std::string_view v) {
        for (char c : v) {
            if (c == '\\') out_ += "\\\\";
            else if (c == '"') out_ += "\\\"";
            else if (c == '\n') out_ += "\\n";
            else out_.push_back(c);
        }
    }
    // HELP text escapes backslash and newline only.
    void append_help(std::string_view v) {
        for (char c : v) {
            if (c == '\\') out_ += "\\\\";
            else if (c == '\n') out_ += "\\n";
            else out_.push_back(c);
        }
    }
    void append_number(double v) { out_ += number_text(v); }

    std::string out_;
};

} // namespace dockpol::sidecar
