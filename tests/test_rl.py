"""Reinforcement learning from scratch (dlbook.rl) against hand computations, the linear
solve of the Bellman equation and a brute-force search over deterministic policies."""

from __future__ import annotations

import itertools

import gymnasium as gym
import numpy as np
import pytest
from gymnasium import spaces

from dlbook import rl


def small_mdp(seed: int = 0, S: int = 4, A: int = 3) -> rl.TabularMDP:
    """A random MDP with S - 1 ordinary states and one terminal state that every state can reach."""
    rng = np.random.default_rng(seed)
    P = rng.random((S, A, S)) + 0.05
    P /= P.sum(axis=2, keepdims=True)
    R = rng.normal(size=(S, A))
    terminal = np.zeros(S, bool)
    terminal[-1] = True
    P[-1] = 0.0
    P[-1, :, -1] = 1.0
    R[-1] = 0.0
    return rl.TabularMDP(P, R, terminal)


class Chain(gym.Env):
    """States 0..n-1 in a row, n is the goal (terminal). Action 0 steps left (stays at 0),
    action 1 steps right; every step costs -1."""

    def __init__(self, n: int = 4):
        self.n = n
        self.observation_space = spaces.Discrete(n + 1)
        self.action_space = spaces.Discrete(2)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.s = 0
        return self.s, {}

    def step(self, action):
        self.s = max(self.s - 1, 0) if action == 0 else self.s + 1
        return self.s, -1.0, self.s == self.n, False, {}


def chain_q_star(n: int, gamma: float) -> np.ndarray:
    """Q* of Chain(n) by hand: from s the goal is n - s steps away."""
    def v(s):  # -(1 + γ + ... + γ^(k-1)) for k = n - s steps
        return -sum(gamma ** i for i in range(n - s))
    Q = np.zeros((n + 1, 2))
    for s in range(n):
        Q[s, 1] = -1 + gamma * (v(s + 1) if s + 1 < n else 0.0)
        Q[s, 0] = -1 + gamma * v(max(s - 1, 0))
    return Q


def policy_values_by_loops(mdp, policy, gamma):
    S = mdp.num_states
    A_ = np.eye(S)
    b = np.zeros(S)
    for s in range(S):
        if mdp.terminal[s]:
            continue
        for a in range(mdp.num_actions):
            b[s] += policy[s, a] * mdp.R[s, a]
            for s2 in range(S):
                if not mdp.terminal[s2]:
                    A_[s, s2] -= gamma * policy[s, a] * mdp.P[s, a, s2]
    return np.linalg.solve(A_, b)


@pytest.mark.parametrize("gamma", [0.0, 0.5, 0.9, 1.0])
def test_policy_evaluation_equals_the_linear_solve(gamma):
    mdp = small_mdp(1)
    policy = np.random.default_rng(2).dirichlet(np.ones(mdp.num_actions), size=mdp.num_states)
    V = rl.policy_evaluation(mdp, policy, gamma)
    np.testing.assert_allclose(V, policy_values_by_loops(mdp, policy, gamma), atol=1e-8)
    np.testing.assert_allclose(rl.solve_policy_values(mdp, policy, gamma), V, atol=1e-8)
    Q = rl.q_from_v(mdp, V, gamma)
    np.testing.assert_allclose(rl.v_from_q(Q, policy), V, atol=1e-8)


@pytest.mark.parametrize("seed,gamma", [(0, 0.9), (3, 1.0), (4, 0.5)])
def test_policy_and_value_iteration_agree_with_brute_force(seed, gamma):
    mdp = small_mdp(seed)
    S, A = mdp.num_states, mdp.num_actions
    best = np.full(S, -np.inf)
    for actions in itertools.product(range(A), repeat=S):
        policy = np.eye(A)[list(actions)]
        best = np.maximum(best, policy_values_by_loops(mdp, policy, gamma))
    pi_result = rl.policy_iteration(mdp, gamma)
    vi_result = rl.value_iteration(mdp, gamma)
    np.testing.assert_allclose(pi_result.V, best, atol=1e-8)
    np.testing.assert_allclose(vi_result.V, best, atol=1e-8)
    np.testing.assert_array_equal(pi_result.policy, vi_result.policy)
    np.testing.assert_allclose(rl.solve_policy_values(mdp, vi_result.policy, gamma), best,
                               atol=1e-8)


def test_discounted_return_by_hand():
    assert rl.discounted_return([1, 0, 2, -1], 0.5) == pytest.approx(1 + 0.25 * 2 - 0.125)
    assert rl.discounted_return([1, 1, 1], 1.0) == 3.0
    assert rl.discounted_return([], 0.9) == 0.0
    np.testing.assert_allclose(rl.returns_to_go([1, 0, 2], 0.5), [1.5, 1.0, 2.0])


def test_trajectory_probability_by_hand():
    mdp = small_mdp(5)
    policy = np.full((4, 3), 1 / 3)
    states, actions = [0, 2, 1], [1, 2]
    expected = 0.25 * (1 / 3) * mdp.P[0, 1, 2] * (1 / 3) * mdp.P[2, 2, 1]
    assert rl.trajectory_probability(mdp, policy, states, actions) == pytest.approx(expected)


def test_q_learning_converges_to_q_star_on_a_chain():
    n, gamma = 4, 0.9
    result = rl.q_learning(Chain(n), 3000, alpha=0.2, gamma=gamma,
                           epsilon=lambda k: max(0.0, 0.5 * (1 - k / 2500)), seed=0,
                           progress=False)
    np.testing.assert_allclose(result.Q, chain_q_star(n, gamma), atol=0.02)
    assert result.lengths[-1] == n and result.returns[-1] == -n


def test_sarsa_converges_to_q_star_along_its_greedy_policy():
    """With ε decaying to 0, SARSA's greedy policy is optimal and its values for the actions
    it ends up taking are Q*; the values of actions it stops trying stay rough estimates."""
    n, gamma = 4, 0.9
    result = rl.sarsa(Chain(n), 3000, alpha=0.2, gamma=gamma,
                      epsilon=lambda k: max(0.0, 0.5 * (1 - k / 2500)), seed=0, progress=False)
    q_star = chain_q_star(n, gamma)
    np.testing.assert_array_equal(result.Q[:n].argmax(axis=1), np.ones(n, int))
    np.testing.assert_allclose(result.Q[:n, 1], q_star[:n, 1], atol=0.02)
    assert (result.Q[:n, 0] < result.Q[:n, 1]).all()
    assert result.lengths[-1] == n and result.returns[-1] == -n


def test_q_learning_is_deterministic():
    a = rl.q_learning(Chain(), 50, seed=3, progress=False)
    b = rl.q_learning(Chain(), 50, seed=3, progress=False)
    np.testing.assert_array_equal(a.Q, b.Q)


def test_monte_carlo_q_matches_the_bellman_solution():
    env = gym.make("FrozenLake-v1", map_name="4x4", is_slippery=True)
    mdp = rl.mdp_from_env(env)
    policy = np.full((16, 4), 0.25)
    Q_true = rl.q_from_v(mdp, rl.solve_policy_values(mdp, policy, 0.9), 0.9)
    Q_mc, counts = rl.monte_carlo_q(env, policy, 0.9, 3000, seed=0, progress=False)
    visited = counts > 200
    assert visited.sum() > 20
    np.testing.assert_allclose(Q_mc[visited], Q_true[visited], atol=0.03)


def test_frozenlake_model_and_optimum():
    mdp = rl.mdp_from_env(gym.make("FrozenLake-v1", map_name="4x4", is_slippery=True))
    assert mdp.shape == (4, 4)
    np.testing.assert_array_equal(np.flatnonzero(mdp.terminal), [5, 7, 11, 12, 15])
    np.testing.assert_allclose(mdp.P[0, 0], np.eye(16)[[0, 0, 4]].sum(0) / 3)
    result = rl.value_iteration(mdp, 1.0)
    assert result.V[0] == pytest.approx(14 / 17, abs=1e-6)  # the classic 0.8235


def test_epsilon_greedy_probabilities():
    probs = rl.epsilon_greedy_probs(np.array([0.0, 2.0, 1.0]), 0.3)
    np.testing.assert_allclose(probs, [0.1, 0.8, 0.1])
    rng = np.random.default_rng(0)
    draws = [rl.epsilon_greedy(np.array([0.0, 2.0, 1.0]), 0.3, rng) for _ in range(20000)]
    np.testing.assert_allclose(np.bincount(draws, minlength=3) / 20000, probs, atol=0.01)


def test_run_episodes_masks_steps_after_the_end():
    envs = gym.make_vec("CartPole-v1", num_envs=3, vectorization_mode="vector_entry_point")
    ep = rl.run_episodes(envs, lambda obs: np.zeros(len(obs), int), seed=0)
    lengths = ep["alive"].sum(axis=0)
    np.testing.assert_array_equal(ep["returns"], lengths)
    assert ep["terminated"].sum() == 3 and ep["states"].shape == (lengths.max(), 3, 4)
    again = rl.run_episodes(envs, lambda obs: np.zeros(len(obs), int), seed=0)
    np.testing.assert_array_equal(again["states"], ep["states"])


def test_replay_buffer_keeps_the_latest_transitions_and_samples_with_a_seed():
    buffer = rl.ReplayBuffer(capacity=5, obs_dim=2)
    for i in range(7):
        buffer.add(np.full((1, 2), i), np.array([i % 2]), np.array([float(i)]),
                   np.full((1, 2), i + 1), np.array([False]))
    assert len(buffer) == 5
    states, actions, rewards, next_states, dones = buffer.sample(64, np.random.default_rng(0))
    assert set(rewards.tolist()) <= {2.0, 3.0, 4.0, 5.0, 6.0}
    np.testing.assert_allclose(next_states[:, 0], states[:, 0] + 1)
    with pytest.raises(ValueError, match="empty"):
        rl.ReplayBuffer(3, 2).sample(1, np.random.default_rng(0))


# ---------------------------------------------------------------- bad input

def test_gamma_outside_the_unit_interval_raises():
    mdp = small_mdp()
    policy = np.full((4, 3), 1 / 3)
    for gamma in (-0.1, 1.5):
        with pytest.raises(ValueError, match="gamma"):
            rl.policy_evaluation(mdp, policy, gamma)
        with pytest.raises(ValueError, match="gamma"):
            rl.value_iteration(mdp, gamma)
        with pytest.raises(ValueError, match="gamma"):
            rl.discounted_return([1.0], gamma)
        with pytest.raises(ValueError, match="gamma"):
            rl.sarsa(Chain(), 1, gamma=gamma, progress=False)


def test_policy_rows_must_sum_to_one():
    mdp = small_mdp()
    bad = np.full((4, 3), 0.3)
    with pytest.raises(ValueError, match="row 0 sums to 0.9"):
        rl.policy_evaluation(mdp, bad, 0.9)
    with pytest.raises(ValueError, match="shape"):
        rl.policy_evaluation(mdp, np.full((4, 2), 0.5), 0.9)
    with pytest.raises(ValueError, match="non-negative"):
        rl.policy_evaluation(mdp, np.array([[1.5, -0.5, 0.0]] * 4), 0.9)


def test_transition_model_must_hold_probabilities():
    mdp = small_mdp()
    P = mdp.P.copy()
    P[0, 0, 0] = -0.2
    P[0, 0, 1] += 0.2 + P[0, 0, 0] * 0
    with pytest.raises(ValueError, match=r"non-negative, got P\[0, 0, 0\] = -0.2"):
        rl.TabularMDP(P, mdp.R, mdp.terminal)
    with pytest.raises(ValueError, match="sum to 1"):
        rl.TabularMDP(mdp.P * 0.9, mdp.R, mdp.terminal)
    with pytest.raises(ValueError, match=r"\(S, A, S\)"):
        rl.TabularMDP(mdp.P[:, :, :2], mdp.R)


def test_tabular_methods_need_discrete_environments():
    env = gym.make("CartPole-v1")
    with pytest.raises(ValueError, match="Discrete observation and action spaces, got "
                                         "observation_space=Box"):
        rl.q_learning(env, 1, progress=False)
    with pytest.raises(ValueError, match="Discrete"):
        rl.sarsa(env, 1, progress=False)
    with pytest.raises(ValueError, match="Discrete"):
        rl.mdp_from_env(env)
    with pytest.raises(ValueError, match="Discrete"):
        rl.monte_carlo_q(env, np.ones((1, 2)) / 2, 0.9, 1, progress=False)


def test_other_parameters_are_checked():
    with pytest.raises(ValueError, match="epsilon"):
        rl.q_learning(Chain(), 1, epsilon=1.5, progress=False)
    with pytest.raises(ValueError, match="alpha"):
        rl.q_learning(Chain(), 1, alpha=0.0, progress=False)
    with pytest.raises(ValueError, match="num_episodes"):
        rl.sarsa(Chain(), 0, progress=False)
    with pytest.raises(ValueError, match="T \\+ 1 states"):
        rl.trajectory_probability(small_mdp(), np.full((4, 3), 1 / 3), [0, 1], [0, 1])
    with pytest.raises(ValueError, match="vector environment"):
        rl.run_episodes(gym.make("CartPole-v1"), lambda o: 0, seed=0)


def test_gamma_one_needs_a_policy_that_terminates():
    mdp = rl.mdp_from_env(gym.make("FrozenLake-v1", map_name="4x4", is_slippery=True))
    always_up = np.eye(4)[[3] * 16]        # the top row then never ends
    with pytest.raises(ValueError, match=r"from states \[0, 1, 2, 3\] it never does"):
        rl.solve_policy_values(mdp, always_up, 1.0)
    with pytest.raises(ValueError, match="never does"):
        rl.policy_evaluation(mdp, always_up, 1.0)
    assert np.allclose(rl.solve_policy_values(mdp, always_up, 0.9)[:4], 0.0)
