"""Change management services: ``workflow`` (every action on a change), ``risk`` (the
questionnaire and the likelihood × impact matrix), ``conflicts`` (overlapping changes and
freeze periods), ``maintenance`` (the monitoring windows of scheduled changes) and
``calendar`` (changes and freeze periods over a range)."""
