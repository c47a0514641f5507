def _unused(*args, **kwargs):
    raise NotImplementedError("seqeval is a stand-in here (NER metrics are not used on these tasks)")


precision_score = recall_score = f1_score = _unused
