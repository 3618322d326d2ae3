"""What the training engine costs: `dlbook.train.fit` against a hand-written loop, same work.

Both train the same small network (a two-layer MLP on 784 inputs, the size of a flattened digit,
as the early chapters train) from the same seed on the same mini-batches by plain SGD: the hand
loop does forward, loss, ``zero_grad``, ``backward``, ``step`` and ``loss.item()`` per batch; the
engine (``fit(..., desc=None)``) does the same plus its bookkeeping (moving the batch to the
device, the divergence check, the history). The losses must agree to the last bit, so both do the
same arithmetic. The runs alternate (hand, engine, hand, ...) after one untimed warm-up each, so
a change of the machine's load touches both; the median of ``repeats`` runs is reported in
wall-clock and in CPU time (``time.process_time``), which other programs' load inflates less.

Usage: python .ci/engine_overhead.py [--repeats N]
"""

from __future__ import annotations

import argparse
import statistics
import time


def engine_overhead(repeats: int = 9, num_batches: int = 100, batch_size: int = 64, hidden: int = 64,
                    seed: int = 0) -> dict:
    """Time ``fit`` against the hand loop; return medians (seconds) and their ratios.

    Raises:
        AssertionError: if the two loops' per-batch losses differ.
        ValueError: for repeats, num_batches, batch_size or hidden below 1.
    """
    if min(repeats, num_batches, batch_size, hidden) < 1:
        raise ValueError(f"repeats, num_batches, batch_size and hidden must be ≥ 1, got "
                         f"{repeats}, {num_batches}, {batch_size}, {hidden}")
    import torch
    import torch.nn.functional as F
    from torch import nn

    from dlbook import train

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as the chapters run in `make book` and `make bench`
    try:
        generator = torch.Generator().manual_seed(seed)
        X = torch.rand(num_batches * batch_size, 784, generator=generator)  # (N, 784), like grey values
        y = torch.randint(0, 10, (len(X),), generator=generator)  # (N,) class labels
        batches = [(X[i : i + batch_size], y[i : i + batch_size]) for i in range(0, len(X), batch_size)]
        cpu = torch.device("cpu")

        def fresh():
            torch.manual_seed(seed)
            net = nn.Sequential(nn.Linear(784, hidden), nn.ReLU(), nn.Linear(hidden, 10))
            return net, torch.optim.SGD(net.parameters(), lr=0.1)

        def hand_loop():
            net, optimizer = fresh()
            net.train()
            losses = []
            for X_b, y_b in batches:
                loss = F.cross_entropy(net(X_b), y_b)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                losses.append(loss.item())
            net.eval()
            return losses

        def engine():
            net, optimizer = fresh()
            history = train.fit(net, batches, lambda net, batch: F.cross_entropy(net(batch[0]), batch[1]),
                                num_epochs=1, optimizer=optimizer, device=cpu, desc=None)
            return history.per_batch["train_loss"]

        def timed(fn):
            wall, cpu_time = time.perf_counter(), time.process_time()
            losses = fn()
            return losses, time.perf_counter() - wall, time.process_time() - cpu_time

        hand_losses, engine_losses = hand_loop(), engine()  # warm-up, and the check
        assert hand_losses == engine_losses, "fit and the hand loop must give identical losses"
        times = {"hand": [], "fit": []}
        for _ in range(repeats):
            for name, fn in (("hand", hand_loop), ("fit", engine)):
                losses, wall, cpu_time = timed(fn)
                assert losses == hand_losses, f"the {name} loop's losses changed between runs"
                times[name].append((wall, cpu_time))
    finally:
        torch.set_num_threads(threads)
    hand_wall = statistics.median(t[0] for t in times["hand"])
    hand_cpu = statistics.median(t[1] for t in times["hand"])
    fit_wall = statistics.median(t[0] for t in times["fit"])
    fit_cpu = statistics.median(t[1] for t in times["fit"])
    return {"batches": num_batches, "batch_size": batch_size, "hidden": hidden, "repeats": repeats,
            "hand_wall_s": round(hand_wall, 4), "fit_wall_s": round(fit_wall, 4),
            "hand_cpu_s": round(hand_cpu, 4), "fit_cpu_s": round(fit_cpu, 4),
            "fit_over_hand_wall": round(fit_wall / hand_wall, 3), "fit_over_hand_cpu": round(fit_cpu / hand_cpu, 3),
            "identical_losses": True}


def describe(result: dict) -> str:
    """One line for the bench report."""
    return (f"Engine overhead: train.fit takes {result['fit_over_hand_cpu']:.2f}× the CPU time "
            f"({result['fit_over_hand_wall']:.2f}× the wall time) of the hand-written loop it replaces "
            f"({result['batches']} batches of {result['batch_size']}, MLP 784-{result['hidden']}-10, median of "
            f"{result['repeats']}: hand {1000 * result['hand_cpu_s']:.0f} ms CPU, "
            f"fit {1000 * result['fit_cpu_s']:.0f} ms CPU); identical losses.")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=9)
    args = parser.parse_args()
    print(describe(engine_overhead(repeats=args.repeats)))
