"""Problem management: problems behind incidents, root-cause analysis, actions, knowledge."""
