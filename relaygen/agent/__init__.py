"""The agent: an actor-critic network trained with A3C, its files, and its evaluation."""
