// Chapter 03's step for the core's loop (see ddp_step.hpp).
#include "ch03/ddp_step.hpp"

#include "ch03/mpi_runtime.hpp"
#include "ptt/error.hpp"

namespace ptt::ch03 {

DdpStep::DdpStep(Mlp& model, const Dataset& train, const TrainConfig& cfg, const Options& options,
                 int check_every, MPI_Comm comm)
    : model_(model),
      train_(train),
      optimizer_(make_optimizer(cfg.optimizer, model.params.size(), cfg.lr, cfg.momentum)),
      distributed_(model.layout, options, comm),
      check_every_(check_every),
      comm_(comm) {}

StateView DdpStep::host_state() { return {model_.params, optimizer_->state(), optimizer_->steps_taken()}; }

void DdpStep::push_state(long optimizer_steps) {
  // [ch03] rank 0's initial weights everywhere. (Every rank drew them from the same seed, so they
  // agree already; the broadcast makes that a guarantee, as it must be when ranks start apart.)
  PTT_MPI_CHECK(MPI_Bcast(model_.params.data(), static_cast<int>(model_.params.size()), MPI_FLOAT, 0, comm_));
  optimizer_->set_steps_taken(optimizer_steps);
}

//! [ddp_step]
void DdpStep::step(std::span<const std::uint32_t> batch, const StepContext& ctx, EpochStats& stats) {
  // [ch03] this rank's shard: forward, backward, allreduce of the weighted gradient (data,
  // forward, backward and reduce are booked inside).
  const StepResult result =
      distributed_.step(model_.params, model_.grads, train_, batch, nullptr, &ctx.phases);
  // The same loss and gradient on every rank: every rank stops here together on NaN/Inf.
  ctx.guard.check(result.loss, model_.grads, ctx.step, ctx.epoch);
  {
    auto t = ctx.phases.scope(Phase::Update);
    optimizer_->set_lr(ctx.lr);
    optimizer_->step(model_.params, model_.grads);  // the same update on every replica
  }
  stats.add(result.loss, result.correct, batch.size());
  if (check_every_ > 0 && ctx.step % check_every_ == 0) check_replicas(model_.params, comm_);
}
//! [ddp_step]

void DdpStep::finish(Reporter& /*report*/) {
  check_replicas(model_.params, comm_);
}  // [ch03] all replicas identical

}  // namespace ptt::ch03
