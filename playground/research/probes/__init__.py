"""Probes that explain and test personalization: counterfactual answers (what did each prompt part do?), a bias
probe (does one attribute change the answer?) and a personalized judge (can the model predict a person's choice?).

Each module receives the narrow things it uses (a backend, a model name, an embed function, a database), never the
whole Playground, so it can be tested and reused on its own.
"""
