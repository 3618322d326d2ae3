"""Reinforcement learning on small, known worlds: Markov decision processes, the Bellman
equations, dynamic programming (policy and value iteration) and model-free learning (Monte
Carlo, SARSA, Q-learning), written from scratch in NumPy.

A finite Markov decision process (马尔可夫决策过程) is held as a :class:`TabularMDP`: the
transition model ``P[s, a, s']`` = ``p(s'|s, a)``, the expected immediate reward
``R[s, a]`` = Σ_s' ``p(s'|s, a)`` r(s, a, s') (reward per step, in the environment's units), a mask
of terminal states and the initial distribution p(s0). :func:`mdp_from_env` reads it from a
Gymnasium toy-text environment (FrozenLake, CliffWalking), whose ``unwrapped.P`` lists every
transition. The model-free learners (:func:`monte_carlo_q`, :func:`sarsa`, :func:`q_learning`)
never look at the model: they only call ``env.reset`` and ``env.step``.

For CartPole and other environments with continuous states, :func:`run_episodes` plays whole
episodes of several seeded copies of an environment in lockstep, so that a policy network sees a
batch of states at a time (used by DQN, REINFORCE and actor-critic), and :class:`ReplayBuffer`
is the experience replay of a deep Q-network.

Sources: Sutton & Barto, *Reinforcement Learning: An Introduction*, 2nd ed. (2018), chapters 3
(MDPs, returns, value functions, Bellman equations), 4 (policy evaluation, policy and value
iteration), 5 (Monte Carlo), 6 (TD learning, SARSA, Q-learning) and 13 (REINFORCE,
actor-critic); Mnih et al. (2015) for the deep Q-network; Williams (1992) for REINFORCE; the
review notes (002), section 9.

Introduced in the reinforcement learning chapter.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from gymnasium import spaces
from tqdm.auto import tqdm

__all__ = [
    "TabularMDP", "mdp_from_env", "policy_matrices", "trajectory_probability",
    "discounted_return", "returns_to_go", "q_from_v", "v_from_q", "greedy_policy",
    "policy_evaluation", "solve_policy_values", "policy_iteration", "value_iteration",
    "DPResult", "epsilon_greedy_probs", "epsilon_greedy", "monte_carlo_q", "TDResult", "sarsa",
    "q_learning", "greedy_path", "run_episodes", "ReplayBuffer", "plot_grid_values",
    "check_gamma", "check_policy", "FROZENLAKE_ARROWS", "CLIFFWALKING_ARROWS",
]

def check_gamma(gamma: float) -> float:
    """Return the discount γ as a float; raise ``ValueError`` unless 0 <= γ <= 1."""
    try:
        value = float(gamma)
    except (TypeError, ValueError):
        raise ValueError(f"the discount gamma must be a number in [0, 1], got {gamma!r}") from None
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"the discount gamma must be in [0, 1], got {gamma!r}")
    return value


def _check_probability(name: str, value: float) -> float:
    value = float(value)
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be in [0, 1], got {value!r}")
    return value


def _check_positive_int(name: str, value: int) -> int:
    if int(value) != value or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


@dataclass(frozen=True)
class TabularMDP:
    """A finite Markov decision process.

    Attributes:
        P: ``(S, A, S)`` float64, ``P[s, a, s2]`` = ``p(s2 | s, a)``; each ``P[s, a]`` sums to 1.
        R: ``(S, A)`` float64, expected immediate reward of taking action a in state s.
        terminal: ``(S,)`` bool, states where an episode ends (their value is 0).
        p0: ``(S,)`` float64, distribution of the initial state s0; default uniform.
        shape: optional ``(rows, cols)`` of a grid world, for drawing.

    Raises:
        ValueError: wrong shapes, negative or non-finite probabilities, rows of ``P`` or ``p0``
            that do not sum to 1, non-finite rewards.
    """

    P: np.ndarray
    R: np.ndarray
    terminal: np.ndarray | None = None
    p0: np.ndarray | None = None
    shape: tuple[int, int] | None = field(default=None)

    def __post_init__(self):
        P = np.asarray(self.P, dtype=float)
        R = np.asarray(self.R, dtype=float)
        if P.ndim != 3 or P.shape[0] != P.shape[2] or P.shape[0] == 0 or P.shape[1] == 0:
            raise ValueError(f"P must have shape (S, A, S) with S, A >= 1, got {P.shape}")
        S, A, _ = P.shape
        if R.shape != (S, A):
            raise ValueError(f"R must have shape (S, A) = {(S, A)}, got {R.shape}")
        if not np.all(np.isfinite(P)) or (P < 0).any():
            s, a, s2 = np.argwhere(~np.isfinite(P) | (P < 0))[0]
            raise ValueError("transition probabilities must be finite and non-negative, got "
                             f"P[{s}, {a}, {s2}] = {P[s, a, s2]}")
        sums = P.sum(axis=2)
        if not np.allclose(sums, 1.0, atol=1e-6):
            s, a = np.argwhere(~np.isclose(sums, 1.0, atol=1e-6))[0]
            raise ValueError(f"each P[s, a] must sum to 1 over next states, P[{s}, {a}] sums to "
                             f"{sums[s, a]:.6g}")
        if not np.all(np.isfinite(R)):
            raise ValueError("rewards R must be finite")
        terminal = (np.zeros(S, bool) if self.terminal is None
                    else np.asarray(self.terminal, dtype=bool))
        if terminal.shape != (S,):
            raise ValueError(f"terminal must have shape (S,) = {(S,)}, got {terminal.shape}")
        p0 = np.full(S, 1.0 / S) if self.p0 is None else np.asarray(self.p0, dtype=float)
        if p0.shape != (S,) or (p0 < 0).any() or not np.isclose(p0.sum(), 1.0, atol=1e-6):
            raise ValueError(f"p0 must be a probability vector of length {S}, got shape "
                             f"{p0.shape} summing to {p0.sum():.6g}")
        if self.shape is not None and int(np.prod(self.shape)) != S:
            raise ValueError(f"grid shape {self.shape} does not hold {S} states")
        object.__setattr__(self, "P", P)
        object.__setattr__(self, "R", R)
        object.__setattr__(self, "terminal", terminal)
        object.__setattr__(self, "p0", p0)

    @property
    def num_states(self) -> int:
        return self.P.shape[0]

    @property
    def num_actions(self) -> int:
        return self.P.shape[1]


def _check_discrete_env(env) -> tuple[int, int]:
    obs, act = env.observation_space, env.action_space
    if not isinstance(obs, spaces.Discrete) or not isinstance(act, spaces.Discrete):
        raise ValueError("a tabular method needs Discrete observation and action spaces, got "
                         f"observation_space={obs} and action_space={act}")
    return int(obs.n), int(act.n)


def mdp_from_env(env) -> TabularMDP:
    """Read the model of a Gymnasium toy-text environment (FrozenLake, CliffWalking, Taxi).

    The environment lists, for every state s and action a, the tuples
    ``(probability, next_state, reward, terminated)`` in ``env.unwrapped.P[s][a]``. A state that
    some transition reaches with ``terminated=True`` becomes terminal: an absorbing state with
    reward 0, as episodes end there.

    Returns:
        A :class:`TabularMDP` with the grid shape when the environment has one.

    Raises:
        ValueError: if the spaces are not Discrete or the environment has no transition table.
    """
    S, A = _check_discrete_env(env)
    table = getattr(env.unwrapped, "P", None)
    if not isinstance(table, dict):
        raise ValueError(f"{env.unwrapped!r} has no transition table env.unwrapped.P")
    P, R = np.zeros((S, A, S)), np.zeros((S, A))
    terminal = np.zeros(S, bool)
    for s in range(S):
        for a in range(A):
            for prob, s2, reward, done in table[s][a]:
                P[s, a, int(s2)] += prob
                R[s, a] += prob * reward
                terminal[int(s2)] |= bool(done)
    P[terminal] = 0.0
    R[terminal] = 0.0
    for s in np.flatnonzero(terminal):
        P[s, :, s] = 1.0
    p0 = getattr(env.unwrapped, "initial_state_distrib", None)
    desc = getattr(env.unwrapped, "desc", np.empty(0))
    shape = getattr(env.unwrapped, "shape", None) or desc.shape
    shape = tuple(int(n) for n in shape) if len(shape) == 2 else None
    return TabularMDP(P, R, terminal, None if p0 is None else np.asarray(p0, float), shape)


def check_policy(mdp: TabularMDP, policy) -> np.ndarray:
    """Return ``policy`` as an ``(S, A)`` float array of ``π(a|s)``; raise ``ValueError`` if it has
    the wrong shape, negative entries or rows that do not sum to 1."""
    pi = np.asarray(policy, dtype=float)
    if pi.shape != (mdp.num_states, mdp.num_actions):
        raise ValueError(f"a policy must have shape (S, A) = {(mdp.num_states, mdp.num_actions)}, "
                         f"got {pi.shape}")
    if (pi < 0).any() or not np.all(np.isfinite(pi)):
        raise ValueError("policy probabilities pi(a|s) must be finite and non-negative")
    sums = pi.sum(axis=1)
    if not np.allclose(sums, 1.0, atol=1e-6):
        s = int(np.argmax(~np.isclose(sums, 1.0, atol=1e-6)))
        raise ValueError(f"each row of a policy must sum to 1, row {s} sums to {sums[s]:.6g}")
    return pi


def policy_matrices(mdp: TabularMDP, policy) -> tuple[np.ndarray, np.ndarray]:
    """The Markov chain a policy induces: ``P_pi`` ``(S, S)`` with P_π[s, s'] = Σ_a ``π(a|s)``
    ``p(s'|s, a)`` and ``r_pi`` ``(S,)`` with r_π[s] = Σ_a ``π(a|s)`` R[s, a]. Rows of terminal states
    are zero, so that V_π = r_π + γ P_π V_π gives them value 0.

    Raises:
        ValueError: an invalid policy (see :func:`check_policy`).
    """
    pi = check_policy(mdp, policy)
    P_pi = np.einsum("sa,sat->st", pi, mdp.P)
    r_pi = (pi * mdp.R).sum(axis=1)
    P_pi[mdp.terminal] = 0.0
    r_pi[mdp.terminal] = 0.0
    return P_pi, r_pi


def trajectory_probability(mdp: TabularMDP, policy, states: Sequence[int],
                           actions: Sequence[int]) -> float:
    """p(τ) = p(s0) Π_t ``π(a_t|s_t)`` ``p(s_{t+1}|s_t, a_t)`` of τ = s0, a0, s1, ..., a_{T-1}, s_T.

    Args:
        states: ``T + 1`` state indices; actions: ``T`` action indices.

    Raises:
        ValueError: if ``len(states) != len(actions) + 1`` or an index is out of range.
    """
    pi = check_policy(mdp, policy)
    states, actions = [int(s) for s in states], [int(a) for a in actions]
    if len(states) != len(actions) + 1:
        raise ValueError(f"a trajectory of T actions has T + 1 states, got {len(states)} states "
                         f"and {len(actions)} actions")
    if any(not 0 <= s < mdp.num_states for s in states) or any(
            not 0 <= a < mdp.num_actions for a in actions):
        raise ValueError(f"state or action index out of range: states={states}, actions={actions}")
    prob = mdp.p0[states[0]]
    for s, a, s2 in zip(states[:-1], actions, states[1:], strict=True):
        prob *= pi[s, a] * mdp.P[s, a, s2]
    return float(prob)


def discounted_return(rewards: Sequence[float], gamma: float) -> float:
    """G = Σ_t γ^t r_{t+1} of the rewards r_1, ..., r_T of one episode (reward units).

    Raises:
        ValueError: γ outside [0, 1] or ``rewards`` not one-dimensional.
    """
    G = returns_to_go(rewards, gamma)
    return float(G[0]) if G.size else 0.0


def returns_to_go(rewards: Sequence[float], gamma: float) -> np.ndarray:
    """G_t = r_{t+1} + γ G_{t+1} for every step t of one episode: ``(T,)`` float64."""
    gamma = check_gamma(gamma)
    r = np.asarray(rewards, dtype=float)
    if r.ndim != 1:
        raise ValueError(f"rewards must be one-dimensional (T,), got shape {r.shape}")
    G = np.zeros_like(r)
    g = 0.0
    for t in range(len(r) - 1, -1, -1):
        g = r[t] + gamma * g
        G[t] = g
    return G


def q_from_v(mdp: TabularMDP, V: np.ndarray, gamma: float) -> np.ndarray:
    """Q(s, a) = R[s, a] + γ Σ_s' ``p(s'|s, a)`` V(s'), ``(S, A)``; 0 in terminal states.

    Raises:
        ValueError: γ outside [0, 1], or V not of shape (S,) or not finite.
    """
    gamma = check_gamma(gamma)
    V = np.asarray(V, dtype=float)
    if V.shape != (mdp.num_states,):
        raise ValueError(f"V must have shape (S,) = {(mdp.num_states,)}, got {V.shape}")
    if not np.isfinite(V).all():
        raise ValueError(f"V must be finite, got {V}")
    Q = mdp.R + gamma * mdp.P @ np.where(mdp.terminal, 0.0, V)
    Q[mdp.terminal] = 0.0
    return Q


def v_from_q(Q: np.ndarray, policy: np.ndarray) -> np.ndarray:
    """V(s) = Σ_a ``π(a|s)`` Q(s, a), ``(S,)``."""
    Q, policy = np.asarray(Q, float), np.asarray(policy, float)
    if Q.shape != policy.shape or Q.ndim != 2:
        raise ValueError(f"Q and the policy must both be (S, A), got {Q.shape} and {policy.shape}")
    return (policy * Q).sum(axis=1)


def greedy_policy(Q: np.ndarray, previous: np.ndarray | None = None, tol: float = 1e-9
                  ) -> np.ndarray:
    """The deterministic policy that takes argmax_a Q(s, a), as an ``(S, A)`` one-hot array.

    Ties go to the lowest action index, or to the action of ``previous`` (a policy) when it is
    among the best within ``tol`` (so that policy iteration stops instead of cycling).

    Raises:
        ValueError: Q not of shape (S, A) or holding NaN (no action is then the best).
    """
    Q = np.asarray(Q, dtype=float)
    if Q.ndim != 2:
        raise ValueError(f"Q must be (S, A), got shape {Q.shape}")
    if np.isnan(Q).any():
        raise ValueError(f"Q holds {int(np.isnan(Q).sum())} NaN values: no greedy action")
    best = np.argmax(Q, axis=1)
    if previous is not None:
        old = np.argmax(previous, axis=1)
        keep = Q[np.arange(len(Q)), old] >= Q.max(axis=1) - tol
        best = np.where(keep, old, best)
    pi = np.zeros_like(Q)
    pi[np.arange(len(Q)), best] = 1.0
    return pi


def _check_terminates(mdp: TabularMDP, P_pi: np.ndarray, gamma: float) -> None:
    """With γ = 1 the values are defined only if every state reaches a terminal state."""
    if gamma < 1.0:
        return
    reaches = mdp.terminal.copy()
    while True:
        grown = reaches | (P_pi[:, reaches].sum(axis=1) > 0)
        if np.array_equal(grown, reaches):
            break
        reaches = grown
    if not reaches.all():
        stuck = np.flatnonzero(~reaches)
        raise ValueError(f"with gamma = 1 the policy must reach a terminal state from every state; "
                         f"from states {stuck.tolist()} it never does")


def solve_policy_values(mdp: TabularMDP, policy, gamma: float) -> np.ndarray:
    """V_π as the solution of the linear system (I - γ P_π) V = r_π, ``(S,)``.

    Raises:
        ValueError: an invalid policy or γ, or γ = 1 and a policy under which some state never
            reaches a terminal state (the system is then singular).
    """
    gamma = check_gamma(gamma)
    P_pi, r_pi = policy_matrices(mdp, policy)
    _check_terminates(mdp, P_pi, gamma)
    return np.linalg.solve(np.eye(mdp.num_states) - gamma * P_pi, r_pi)


def policy_evaluation(mdp: TabularMDP, policy, gamma: float, *, tol: float = 1e-10,
                      max_iterations: int = 100_000) -> np.ndarray:
    """V_π by iterating the Bellman equation V ← r_π + γ P_π V from V = 0 until the largest
    change is below ``tol``. Sutton & Barto (2018), section 4.1.

    Returns:
        ``(S,)`` float64, the expected discounted return from each state (reward units).

    Raises:
        ValueError: an invalid policy or γ, γ = 1 and a policy under which some state never
            reaches a terminal state, or no convergence within ``max_iterations``.
    """
    gamma = check_gamma(gamma)
    P_pi, r_pi = policy_matrices(mdp, policy)
    _check_terminates(mdp, P_pi, gamma)
    V = np.zeros(mdp.num_states)
    for _ in range(max_iterations):
        V_new = r_pi + gamma * P_pi @ V
        if np.max(np.abs(V_new - V)) < tol:
            return V_new
        V = V_new
    raise ValueError(f"policy evaluation did not converge in {max_iterations} sweeps (gamma = 1 "
                     "with a policy that never ends an episode?)")


@dataclass
class DPResult:
    """What policy iteration or value iteration returns.

    Attributes:
        V: ``(S,)`` optimal state values V*; Q: ``(S, A)`` optimal action values Q*.
        policy: ``(S, A)`` a deterministic optimal (greedy) policy.
        num_iterations: policy evaluations (policy iteration; the last one finds the policy
            stable) or Bellman optimality sweeps (value iteration).
        history: the value function after each iteration, ``(num_iterations, S)``.
    """

    V: np.ndarray
    Q: np.ndarray
    policy: np.ndarray
    num_iterations: int
    history: np.ndarray


def policy_iteration(mdp: TabularMDP, gamma: float, *, initial_policy=None,
                     max_iterations: int = 1000) -> DPResult:
    """Policy iteration: evaluate the policy exactly (:func:`solve_policy_values`), make it
    greedy with respect to its Q, repeat until the policy no longer changes.
    Sutton & Barto (2018), section 4.3.

    Args:
        initial_policy: ``(S, A)``; default uniform random.

    Raises:
        ValueError: γ outside [0, 1], an invalid initial policy, a singular evaluation (γ = 1
            and a policy that never terminates) or no convergence within ``max_iterations``.
    """
    gamma = check_gamma(gamma)
    S, A = mdp.num_states, mdp.num_actions
    pi = np.full((S, A), 1.0 / A) if initial_policy is None else check_policy(mdp, initial_policy)
    history = []
    for k in range(1, max_iterations + 1):
        V = solve_policy_values(mdp, pi, gamma)
        history.append(V)
        Q = q_from_v(mdp, V, gamma)
        new_pi = greedy_policy(Q, previous=pi if k > 1 else None)
        if k > 1 and np.array_equal(new_pi, pi):
            return DPResult(V, Q, pi, k, np.array(history))
        pi = new_pi
    raise ValueError(f"policy iteration did not converge in {max_iterations} iterations")


def value_iteration(mdp: TabularMDP, gamma: float, *, tol: float = 1e-10,
                    max_iterations: int = 100_000) -> DPResult:
    """Value iteration: V ← max_a (R + γ P V) until the largest change is below ``tol``, then
    the greedy policy. Sutton & Barto (2018), section 4.4.

    Raises:
        ValueError: γ outside [0, 1] or no convergence within ``max_iterations``.
    """
    gamma = check_gamma(gamma)
    V = np.zeros(mdp.num_states)
    history = []
    for k in range(1, max_iterations + 1):
        V_new = q_from_v(mdp, V, gamma).max(axis=1)
        history.append(V_new)
        if np.max(np.abs(V_new - V)) < tol:
            Q = q_from_v(mdp, V_new, gamma)
            return DPResult(V_new, Q, greedy_policy(Q), k, np.array(history))
        V = V_new
    raise ValueError(f"value iteration did not converge in {max_iterations} sweeps")


def epsilon_greedy_probs(q_values: np.ndarray, epsilon: float) -> np.ndarray:
    """``π_ε(·|s)`` for one state's action values ``(A,)``: every action gets ε/``|A|``, the greedy one
    (lowest index among ties) another 1 - ε. Returns ``(A,)`` float64 summing to 1.

    Raises:
        ValueError: ε outside [0, 1], or ``q_values`` not a non-empty vector or holding NaN.
    """
    epsilon = _check_probability("epsilon", epsilon)
    q = np.asarray(q_values, dtype=float)
    if q.ndim != 1 or q.size == 0:
        raise ValueError(f"q_values must be a non-empty (A,) vector, got shape {q.shape}")
    if np.isnan(q).any():
        raise ValueError(f"q_values hold NaN, so no action is the greedy one: {q}")
    probs = np.full(q.size, epsilon / q.size)
    probs[int(np.argmax(q))] += 1.0 - epsilon
    return probs


def epsilon_greedy(q_values: np.ndarray, epsilon: float, rng: np.random.Generator) -> int:
    """Sample an action from :func:`epsilon_greedy_probs`: explore with probability ε."""
    probs = epsilon_greedy_probs(q_values, epsilon)
    if rng.random() < epsilon:
        return int(rng.integers(len(probs)))
    return int(np.argmax(q_values))


def monte_carlo_q(env, policy, gamma: float, num_episodes: int, *, seed: int = 0,
                  max_steps: int = 1000, progress: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Every-visit Monte Carlo estimate of Q_π: the average return that followed each visit of
    (s, a) in ``num_episodes`` sampled episodes. Sutton & Barto (2018), section 5.2.

    Args:
        env: a Gymnasium environment with Discrete spaces (only ``reset``/``step`` are used).
        policy: ``(S, A)`` the policy that picks actions.

    Returns:
        ``(Q, counts)``: ``(S, A)`` estimates (0 where never visited) and visit counts.

    Raises:
        ValueError: non-Discrete spaces, γ outside [0, 1], an invalid policy.
    """
    S, A = _check_discrete_env(env)
    gamma = check_gamma(gamma)
    pi = np.asarray(policy, float)
    if pi.shape != (S, A) or (pi < 0).any() or not np.allclose(pi.sum(1), 1.0, atol=1e-6):
        raise ValueError(f"policy must be (S, A) = {(S, A)} with rows summing to 1")
    num_episodes = _check_positive_int("num_episodes", num_episodes)
    rng = np.random.default_rng(seed)
    total, counts = np.zeros((S, A)), np.zeros((S, A))
    for episode in tqdm(range(num_episodes), desc="Monte Carlo episodes", disable=not progress):
        s, _ = env.reset(seed=seed + episode)
        visited, rewards = [], []
        for _ in range(max_steps):
            a = int(rng.choice(A, p=pi[s]))
            s2, r, terminated, truncated, _ = env.step(a)
            visited.append((s, a))
            rewards.append(r)
            s = s2
            if terminated or truncated:
                break
        G = returns_to_go(rewards, gamma)
        for (s_t, a_t), g in zip(visited, G, strict=True):
            total[s_t, a_t] += g
            counts[s_t, a_t] += 1
    return np.divide(total, counts, out=np.zeros_like(total), where=counts > 0), counts


@dataclass
class TDResult:
    """What :func:`sarsa` and :func:`q_learning` return.

    Attributes:
        Q: ``(S, A)`` learned action values.
        returns: ``(num_episodes,)`` undiscounted return of each training episode (the online
            performance of the ε-greedy behaviour).
        lengths: ``(num_episodes,)`` steps per episode.
    """

    Q: np.ndarray
    returns: np.ndarray
    lengths: np.ndarray


def _td_control(env, num_episodes, alpha, gamma, epsilon, seed, max_steps, progress, on_policy):
    S, A = _check_discrete_env(env)
    gamma = check_gamma(gamma)
    schedule = epsilon if callable(epsilon) else (lambda episode: epsilon)
    _check_probability("epsilon", schedule(0))
    if not 0.0 < float(alpha) <= 1.0:
        raise ValueError(f"the step size alpha must be in (0, 1], got {alpha!r}")
    num_episodes = _check_positive_int("num_episodes", num_episodes)
    rng = np.random.default_rng(seed)
    env.action_space.seed(seed)
    Q = np.zeros((S, A))
    returns, lengths = np.zeros(num_episodes), np.zeros(num_episodes, int)
    name = "SARSA" if on_policy else "Q-learning"
    for episode in tqdm(range(num_episodes), desc=f"{name} episodes", disable=not progress):
        s, _ = env.reset(seed=seed + episode)
        epsilon = _check_probability("epsilon", schedule(episode))
        a = epsilon_greedy(Q[s], epsilon, rng)
        for _ in range(max_steps):
            s2, r, terminated, truncated, _ = env.step(a)
            returns[episode] += r
            lengths[episode] += 1
            a2 = epsilon_greedy(Q[s2], epsilon, rng)
            # SARSA bootstraps on the action it will take; Q-learning on the greedy one
            bootstrap = Q[s2, a2] if on_policy else Q[s2].max()
            target = r + (0.0 if terminated else gamma * bootstrap)
            Q[s, a] += alpha * (target - Q[s, a])
            s, a = s2, a2
            if terminated or truncated:
                break
    return TDResult(Q, returns, lengths)


def sarsa(env, num_episodes: int, *, alpha: float = 0.5, gamma: float = 1.0,
          epsilon: float | Callable[[int], float] = 0.1, seed: int = 0, max_steps: int = 10_000,
          progress: bool = True) -> TDResult:
    """SARSA, on-policy TD control: after (s, a, r, s', a') with a' from the ε-greedy policy,
    Q(s, a) ← Q(s, a) + α [r + γ Q(s', a') - Q(s, a)]. Sutton & Barto (2018), section 6.4.

    Args:
        env: Gymnasium environment with Discrete spaces; reset with seeds seed, seed + 1, ...
        alpha: step size in (0, 1]; gamma: discount in [0, 1].
        epsilon: exploration rate in [0, 1], or a function of the episode index that returns
            one (a decaying ε makes SARSA converge to Q*, Sutton & Barto section 6.4).

    Raises:
        ValueError: non-Discrete spaces or a parameter out of range.
    """
    return _td_control(env, num_episodes, alpha, gamma, epsilon, seed, max_steps, progress, True)


def q_learning(env, num_episodes: int, *, alpha: float = 0.5, gamma: float = 1.0,
               epsilon: float | Callable[[int], float] = 0.1, seed: int = 0,
               max_steps: int = 10_000, progress: bool = True) -> TDResult:
    """Q-learning, off-policy TD control: acting ε-greedily but updating towards the greedy
    target, Q(s, a) ← Q(s, a) + α [r + γ max_a' Q(s', a') - Q(s, a)]. Watkins (1989);
    Sutton & Barto (2018), section 6.5. Arguments and errors as :func:`sarsa`.
    """
    return _td_control(env, num_episodes, alpha, gamma, epsilon, seed, max_steps, progress, False)


def greedy_path(mdp: TabularMDP, policy, start: int, max_steps: int = 1000) -> list[int]:
    """States visited from ``start`` by a deterministic policy in a deterministic MDP (most
    likely next state at each step), up to a terminal state, a repeat or ``max_steps``.

    Raises:
        ValueError: an invalid policy, a start outside the states, or ``max_steps`` < 0.
    """
    pi = check_policy(mdp, policy)
    if int(max_steps) != max_steps or max_steps < 0:
        raise ValueError(f"max_steps must be a non-negative integer, got {max_steps!r}")
    if not 0 <= int(start) < mdp.num_states:
        raise ValueError(f"start must be a state in 0..{mdp.num_states - 1}, got {start!r}")
    path = [int(start)]
    while not mdp.terminal[path[-1]] and len(path) <= max_steps:
        s = path[-1]
        nxt = int(np.argmax(mdp.P[s, int(np.argmax(pi[s]))]))
        if nxt in path:
            break
        path.append(nxt)
    return path


def run_episodes(envs, act: Callable[[np.ndarray], np.ndarray], seed: int
                 ) -> dict[str, np.ndarray]:
    """Play one episode in every sub-environment of a Gymnasium vector environment, in lockstep.

    A policy network then sees a batch of B states per call. Steps that a sub-environment takes
    after its first episode ended (it resets itself automatically) are marked as not ``alive``.

    Args:
        envs: a ``gymnasium.vector.VectorEnv`` with B sub-environments, for example
            ``gym.make_vec("CartPole-v1", num_envs=B, vectorization_mode="vector_entry_point")``.
        act: maps a ``(B, obs_dim)`` float32 array of states to ``(B,)`` integer actions.
        seed: passed to ``envs.reset(seed=seed)``.

    Returns:
        A dict of arrays over time steps t < T (T: length of the longest episode):
        ``"states"`` ``(T, B, obs_dim)`` float32, ``"actions"`` ``(T, B)`` int64, ``"rewards"``
        ``(T, B)`` float32 (0 where not alive), ``"next_states"`` ``(T, B, obs_dim)``,
        ``"alive"`` ``(T, B)`` bool (the first episode was running at step t),
        ``"terminated"`` ``(T, B)`` bool (it ended at step t in a failure/terminal state, not
        by the time limit), and ``"returns"`` ``(B,)`` undiscounted episode returns.

    Raises:
        ValueError: if ``envs`` is not a vector environment with discrete actions.
    """
    if not hasattr(envs, "num_envs") or not isinstance(getattr(envs, "single_action_space", None),
                                                       spaces.Discrete):
        raise ValueError(f"run_episodes needs a vector environment with Discrete actions, got "
                         f"{envs!r}")
    obs, _ = envs.reset(seed=int(seed))
    obs = np.asarray(obs, dtype=np.float32)
    B = envs.num_envs
    alive = np.ones(B, bool)
    out = {k: [] for k in ("states", "actions", "rewards", "next_states", "alive", "terminated")}
    while alive.any():
        a = np.asarray(act(obs)).astype(np.int64).reshape(B)
        nxt, r, terminated, truncated, _ = envs.step(a)
        nxt = np.asarray(nxt, dtype=np.float32)
        out["states"].append(obs)
        out["actions"].append(a)
        out["rewards"].append(np.where(alive, r, 0.0).astype(np.float32))
        out["next_states"].append(nxt)
        out["alive"].append(alive.copy())
        out["terminated"].append(alive & terminated)
        alive = alive & ~(terminated | truncated)
        obs = nxt
    result = {k: np.stack(v) for k, v in out.items()}
    result["returns"] = result["rewards"].sum(axis=0)
    return result


class ReplayBuffer:
    """Experience replay (经验回放) of a deep Q-network: a ring buffer of the latest
    ``capacity`` transitions (s, a, r, s', done), sampled uniformly at random. Mnih et al. (2015).

    Args:
        capacity: how many transitions it keeps (older ones are overwritten).
        obs_dim: length of a state vector.

    Raises:
        ValueError: a capacity or obs_dim below 1; transitions with mismatched shapes; sampling
            from an empty buffer.
    """

    def __init__(self, capacity: int, obs_dim: int):
        self.capacity = _check_positive_int("capacity", capacity)
        obs_dim = _check_positive_int("obs_dim", obs_dim)
        self.states = np.zeros((self.capacity, obs_dim), np.float32)
        self.next_states = np.zeros((self.capacity, obs_dim), np.float32)
        self.actions = np.zeros(self.capacity, np.int64)
        self.rewards = np.zeros(self.capacity, np.float32)
        self.dones = np.zeros(self.capacity, np.float32)
        self.size = 0
        self.position = 0

    def __len__(self) -> int:
        return self.size

    def add(self, states, actions, rewards, next_states, dones) -> None:
        """Store B transitions: states and next_states ``(B, obs_dim)``, actions, rewards and
        dones ``(B,)`` (done: the episode ended in a terminal state, so no bootstrap)."""
        states = np.asarray(states, np.float32)
        B = len(states)
        parts = (np.asarray(actions), np.asarray(rewards), np.asarray(next_states),
                 np.asarray(dones))
        if states.shape[1:] != self.states.shape[1:] or any(len(p) != B for p in parts) or \
                parts[2].shape != states.shape:
            raise ValueError(f"expected states and next_states (B, {self.states.shape[1]}) and "
                             f"B actions, rewards, dones; got states {states.shape}, "
                             f"{[p.shape for p in parts]}")
        index = (self.position + np.arange(B)) % self.capacity
        self.states[index], self.actions[index], self.rewards[index] = states, parts[0], parts[1]
        self.next_states[index], self.dones[index] = parts[2], parts[3]
        self.position = (self.position + B) % self.capacity
        self.size = min(self.size + B, self.capacity)

    def sample(self, batch_size: int, rng: np.random.Generator):
        """``batch_size`` transitions drawn uniformly with replacement: a tuple (states
        ``(N, obs_dim)`` float32, actions ``(N,)`` int64, rewards ``(N,)`` float32, next_states,
        dones ``(N,)`` float32)."""
        if self.size == 0:
            raise ValueError("cannot sample from an empty replay buffer")
        i = rng.integers(self.size, size=_check_positive_int("batch_size", batch_size))
        return (self.states[i], self.actions[i], self.rewards[i], self.next_states[i],
                self.dones[i])


# arrows for the grid worlds' actions: 0 left, 1 down, 2 right, 3 up (FrozenLake);
# CliffWalking numbers them 0 up, 1 right, 2 down, 3 left (pass its own ``arrows``)
FROZENLAKE_ARROWS = ((-1, 0), (0, -1), (1, 0), (0, 1))
CLIFFWALKING_ARROWS = ((0, 1), (1, 0), (0, -1), (-1, 0))


def plot_grid_values(ax, V, policy, shape: tuple[int, int], *, arrows=FROZENLAKE_ARROWS,
                     terminal=None, labels=None, cmap: str = "viridis", vmin=None, vmax=None,
                     annotate: bool = True):
    """Draw state values as a heat map over a grid world and the policy's action as arrows.

    Args:
        ax: a matplotlib Axes.
        V: ``(S,)`` state values, S = rows × cols (state s is at row s // cols, column s % cols).
        policy: ``(S, A)`` a deterministic policy (or None for no arrows).
        shape: ``(rows, cols)`` of the grid.
        arrows: for each action, its (dx, dy) direction on the page (dy > 0 points up).
        terminal: ``(S,)`` bool, states drawn without an arrow.
        labels: optional ``(S,)`` strings written in the cells (e.g. "H" for a hole).

    Returns:
        The image (for a colour bar) and the quiver artist (None without a policy).

    Raises:
        ValueError: if ``V`` does not have rows × cols entries.
    """
    rows, cols = shape
    V = np.asarray(V, dtype=float)
    if V.shape != (rows * cols,):
        raise ValueError(f"V must have {rows * cols} entries for a {rows}x{cols} grid, got "
                         f"shape {V.shape}")
    image = ax.imshow(V.reshape(rows, cols), cmap=cmap, vmin=vmin, vmax=vmax)
    ax.set_xticks(range(cols))
    ax.set_yticks(range(rows))
    ax.set_xlabel("column")
    ax.set_ylabel("row")
    quiver = None
    if policy is not None:
        actions = np.argmax(np.asarray(policy), axis=1)
        d = np.array(arrows, dtype=float)[actions]
        keep = np.ones(rows * cols, bool) if terminal is None else ~np.asarray(terminal, bool)
        d[~keep] = 0.0
        ys, xs = np.divmod(np.arange(rows * cols), cols)
        quiver = ax.quiver(xs, ys, d[:, 0], d[:, 1], color="white", pivot="middle",
                           scale=1.6 * max(rows, cols), width=0.012)
    if annotate:
        for s in range(rows * cols):
            text = f"{V[s]:.2f}" if labels is None or not labels[s] else labels[s]
            ax.text(s % cols, s // cols + 0.33, text, ha="center", va="center", fontsize=7,
                    color="white")
    return image, quiver
