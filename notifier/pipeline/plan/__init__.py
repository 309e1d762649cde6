"""The plan stage: annotate, route, group and claim (entry: `stage.process`)."""
