// crisp::distributed: data-parallel training across processes (link crisp::distributed, which
// exists when CMake found MPI). Not part of crisp.hpp: the header-only core never needs MPI.
//
//   auto pg = crisp::distributed::init_process_group({.timeout = std::chrono::seconds(300)});
//   Net net(gen);                                     // any module; rank 0's weights win
//   crisp::distributed::DistributedDataParallel ddp(net, pg);
//   loader options: .num_replicas = pg->world_size(), .rank = pg->rank()   (disjoint shards)
//   ddp.pre_forward(); auto loss = ...net(x)...; loss.backward();   // grads averaged over ranks
//   adam.step();
//
// Launch: mpirun -np N program ...   (see docs/distributed.md)
#pragma once

#include "crisp/data/distributed_sampler.hpp"
#include "crisp/distributed/ddp.hpp"
#include "crisp/distributed/init.hpp"
#include "crisp/distributed/launch_env.hpp"
#include "crisp/distributed/process_group.hpp"
