"""Research tools built on the pipeline: LaMP-style evaluation, authorship attribution and style measures, user
studies with pairwise preference, and probes (counterfactual explanations, bias, a personalized judge)."""
