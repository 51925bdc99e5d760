"""Mining jobs that are not recommendations: identity, visits, segments, scores, audiences, retention.

Pure functions (DataFrame in, DataFrame out) beside thin job wrappers that read
the warehouse and write a new versioned result. ``mining.jobs`` is the one
registry of every scheduled job, the recommender's included.
"""
