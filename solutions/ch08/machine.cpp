// The shipped machine profiles and machine.json. Every shipped value names its source: a
// datasheet where there is one, "estimate" where there is not (latencies: calibrate them).
#include "ch08/machine.hpp"

#include <Eigen/Dense>
#include <cmath>
#include <fstream>

#include "ptt/error.hpp"

namespace ptt::ch08 {

namespace {

Machine h100_cluster() {
  Machine m;
  m.name = "h100-cluster";
  m.flops_fp32 = 67e12;
  m.sources["flops_fp32"] = "NVIDIA H100 SXM datasheet: FP32 67 TFLOP/s (non-tensor); TF32 dense ~495";
  m.flops_mixed = 989e12;
  m.sources["flops_mixed"] =
      "NVIDIA H100 SXM datasheet: BF16 tensor core 989 TFLOP/s dense (1979 with sparsity)";
  m.memory_bandwidth = 3.35e12;
  m.sources["memory_bandwidth"] = "NVIDIA H100 SXM datasheet: HBM3 3.35 TB/s";
  m.intra_node = {3e-6, 1.0 / 450e9};
  m.sources["intra_node"] =
      "beta: NVLink 4, 900 GB/s total per GPU = 450 GB/s each way (NVIDIA datasheet); alpha 3 us: estimate";
  m.inter_node = {5e-6, 1.0 / 50e9};
  m.sources["inter_node"] =
      "beta: InfiniBand NDR 400 Gb/s = 50 GB/s per GPU (one NIC per GPU); alpha 5 us: estimate";
  m.workers_per_node = 8;
  m.sources["workers_per_node"] = "DGX/HGX H100: 8 GPUs per node";
  m.memory_bytes = 80e9;
  m.sources["memory_bytes"] = "NVIDIA H100 SXM datasheet: 80 GB HBM3";
  m.cores_per_node = 0;
  m.sources["cores_per_node"] = "0: one GPU per worker, no contention modelled";
  return m;
}

double positive(const nlohmann::json& j, const std::string& field, const std::string& where) {
  require_input(j.contains(field), where + ": field '" + field + "' is missing");
  const auto& v = j.at(field);
  require_input(v.is_number(), where + ": field '" + field + "' must be a number");
  const double x = v.get<double>();
  require_input(x > 0, where + ": field '" + field + "' must be positive (got " + v.dump() + ")");
  return x;
}

Link link(const nlohmann::json& j, const std::string& field, const std::string& where) {
  require_input(
      j.contains(field) && j.at(field).is_object(),
      where + ": field '" + field + "' must be an object {\"alpha_s\": ..., \"beta_s_per_byte\": ...}");
  return {positive(j.at(field), "alpha_s", where + ": " + field),
          positive(j.at(field), "beta_s_per_byte", where + ": " + field)};
}

// A link as machine.json writes it (link() reads it back).
nlohmann::json link_json(const Link& l) {
  return {{"alpha_s", l.alpha_s}, {"beta_s_per_byte", l.beta_s_per_byte}};
}

// A row count as JSON: an integer when it is one (8, not 8.0).
nlohmann::json row_count(double rows) {
  return rows == std::floor(rows) && rows < 9e15 ? nlohmann::json(static_cast<long long>(rows))
                                                 : nlohmann::json(rows);
}

// The optional GEMM table: a non-empty array of {"rows", "forward_1_thread", "backward_1_thread",
// "forward_all_cores", "backward_all_cores"}, rows positive and strictly increasing, rates positive.
GemmTable gemm_table(const nlohmann::json& j, const std::string& where) {
  const std::string field = "gemm_fp32";
  require_input(
      j.is_array() && !j.empty(),
      where + ": field '" + field + "' must be a non-empty array of {\"rows\": ..., rates} objects");
  GemmTable g;
  for (std::size_t i = 0; i < j.size(); ++i) {
    const std::string at = where + ": " + field + "[" + std::to_string(i) + "]";
    require_input(j[i].is_object(), at + " must be an object");
    const double rows = positive(j[i], "rows", at);
    require_input(g.forward_alone.rows.empty() || rows > g.forward_alone.rows.back(),
                  at + ": field 'rows' must be larger than the row count before it (" +
                      row_count(g.forward_alone.rows.empty() ? 0.0 : g.forward_alone.rows.back()).dump() +
                      "): sorted, no duplicates");
    const std::pair<RateTable*, const char*> columns[] = {{&g.forward_alone, "forward_1_thread"},
                                                          {&g.backward_alone, "backward_1_thread"},
                                                          {&g.forward_busy, "forward_all_cores"},
                                                          {&g.backward_busy, "backward_all_cores"}};
    for (const auto& [table, name] : columns) {
      table->rows.push_back(rows);
      table->flops_per_s.push_back(positive(j[i], name, at));
    }
  }
  return g;
}

}  // namespace

std::vector<std::string> machine_profiles() { return {"h100-cluster"}; }

Machine builtin_machine(const std::string& name) {
  if (name == "h100-cluster") return h100_cluster();
  std::string list;
  for (const auto& p : machine_profiles()) list += (list.empty() ? "" : ", ") + p;
  throw InputError("--machine: unknown profile '" + name + "' (use " + list + " or a machine.json file)");
}

nlohmann::json machine_to_json(const Machine& m) {
  nlohmann::json j;
  j["name"] = m.name;
  j["flops_fp32"] = m.flops_fp32;
  j["flops_mixed"] = m.flops_mixed;
  j["memory_bandwidth"] = m.memory_bandwidth;
  j["intra_node"] = link_json(m.intra_node);
  j["inter_node"] = link_json(m.inter_node);
  if (m.thread_link) j["thread_link"] = link_json(*m.thread_link);
  if (m.oversubscribed_link) j["oversubscribed_link"] = link_json(*m.oversubscribed_link);
  j["workers_per_node"] = m.workers_per_node;
  j["memory_bytes"] = m.memory_bytes;
  j["cores_per_node"] = m.cores_per_node;
  if (!m.gemm_fp32.empty()) {
    const GemmTable& g = m.gemm_fp32;
    nlohmann::json table = nlohmann::json::array();
    for (std::size_t i = 0; i < g.forward_alone.rows.size(); ++i)
      table.push_back({{"rows", row_count(g.forward_alone.rows[i])},
                       {"forward_1_thread", g.forward_alone.flops_per_s[i]},
                       {"backward_1_thread", g.backward_alone.flops_per_s[i]},
                       {"forward_all_cores", g.forward_busy.flops_per_s[i]},
                       {"backward_all_cores", g.backward_busy.flops_per_s[i]}});
    j["gemm_fp32"] = table;
  }
  j["sources"] = m.sources;
  return j;
}

Machine machine_from_json(const nlohmann::json& j, const std::string& where) {
  require_input(j.is_object(), where + ": a machine must be a JSON object");
  Machine m;
  require_input(j.contains("name") && j.at("name").is_string(), where + ": field 'name' must be a string");
  m.name = j.at("name").get<std::string>();
  m.flops_fp32 = positive(j, "flops_fp32", where);
  m.flops_mixed = positive(j, "flops_mixed", where);
  m.memory_bandwidth = positive(j, "memory_bandwidth", where);
  m.intra_node = link(j, "intra_node", where);
  m.inter_node = link(j, "inter_node", where);
  if (j.contains("thread_link")) m.thread_link = link(j, "thread_link", where);
  if (j.contains("oversubscribed_link")) m.oversubscribed_link = link(j, "oversubscribed_link", where);
  const double per_node = positive(j, "workers_per_node", where);
  require_input(j.at("workers_per_node").is_number_integer(),
                where + ": field 'workers_per_node' must be an integer");
  m.workers_per_node = static_cast<int>(per_node);
  m.memory_bytes = positive(j, "memory_bytes", where);
  if (j.contains("cores_per_node")) {
    const auto& c = j.at("cores_per_node");
    require_input(c.is_number_integer() && c.get<long>() >= 0,
                  where + ": field 'cores_per_node' must be a non-negative integer");
    m.cores_per_node = c.get<int>();
  }
  if (j.contains("gemm_fp32")) m.gemm_fp32 = gemm_table(j.at("gemm_fp32"), where);
  if (j.contains("sources")) {
    require_input(j.at("sources").is_object(), where + ": field 'sources' must be an object of strings");
    for (const auto& [field, text] : j.at("sources").items()) {
      require_input(text.is_string(), where + ": field 'sources." + field + "' must be a string");
      m.sources[field] = text.get<std::string>();
    }
  }
  return m;
}

Machine load_machine(const std::string& path) {
  std::ifstream in(path);
  require_input(in.good(), "--machine: cannot open " + path);
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(in);
  } catch (const nlohmann::json::parse_error& e) {
    throw InputError(path + ": not valid JSON (byte " + std::to_string(e.byte) + ")");
  }
  return machine_from_json(j, path);
}

void save_machine(const Machine& machine, const std::string& path) {
  std::ofstream out(path);
  require_input(out.good(), "cannot write " + path);
  out << machine_to_json(machine).dump(2) << '\n';
  require_input(out.good(), "cannot write " + path);
}

Machine with_thread_workers(Machine machine) {
  require_input(machine.thread_link.has_value(),
                "--threads: machine '" + machine.name +
                    "' has no 'thread_link' (ch08_calibrate measures one; a GPU profile has none)");
  machine.intra_node = *machine.thread_link;
  machine.oversubscribed_link.reset();  // MPI's figures; threads meet through memory
  return machine;
}

Machine resolve_machine(const std::string& name_or_path) {
  const bool file = name_or_path.size() > 5 && name_or_path.ends_with(".json");
  return file ? load_machine(name_or_path) : builtin_machine(name_or_path);
}

Link fit_allreduce_link(const std::vector<AllreduceSample>& samples, int ranks) {
  require_input(ranks >= 2, "an all-reduce fit needs at least 2 ranks, got " + std::to_string(ranks));
  require_input(samples.size() >= 2,
                "an all-reduce fit needs at least two sizes, got " + std::to_string(samples.size()));
  // T(N) = 2 (p-1) alpha + 2 (p-1)/p N beta. Minimising sum_i (T(N_i) / t_i - 1)^2 is linear
  // least squares: row i is (2 (p-1), 2 (p-1)/p N_i) / t_i, its right-hand side 1. Eigen's
  // column-pivoting QR solves it and says whether the sizes determine both unknowns.
  const double p = ranks;
  const auto n = static_cast<Eigen::Index>(samples.size());
  Eigen::MatrixX2d rows(n, 2);
  for (Eigen::Index i = 0; i < n; ++i) {
    const AllreduceSample& s = samples[static_cast<std::size_t>(i)];
    require_input(s.bytes > 0 && s.seconds > 0, "an all-reduce sample needs positive bytes and seconds");
    rows(i, 0) = 2.0 * (p - 1.0) / s.seconds;
    rows(i, 1) = 2.0 * (p - 1.0) / p * s.bytes / s.seconds;
  }
  const auto qr = rows.colPivHouseholderQr();
  require_input(qr.rank() == 2, "an all-reduce fit needs two different sizes");
  const Eigen::Vector2d x = qr.solve(Eigen::VectorXd::Ones(n));
  const Link link{x(0), x(1)};
  require_input(link.alpha_s > 0 && link.beta_s_per_byte > 0,
                "the all-reduce times do not fit alpha + bytes x beta with both positive (alpha " +
                    std::to_string(link.alpha_s) + " s, beta " + std::to_string(link.beta_s_per_byte) +
                    " s/B)");
  return link;
}

}  // namespace ptt::ch08
