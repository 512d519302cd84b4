"""Gates: whether a retrained model may be promoted, with numbers: metric rules, the champion
it is compared with (and how fairly), the drift gate and the freshness of the stages.
"""
