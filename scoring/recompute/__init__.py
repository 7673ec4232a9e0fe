"""The statements of the set-based recompute, by stage; scoring.compute runs them.

inputs (what is read besides the statuses), sql (portable SQL text, bit
masks), outcomes (agreement outcomes as codes), per_municipality (the pass
over the status rows), writes (compliance and score rows), aggregates.
"""
