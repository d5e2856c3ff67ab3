"""nirs_modelling: the engine-agnostic modelling core — fold fits and predictions, ranking, stacking, result tables.

It reads the compiled plan (relspec) and the result-table schemas (datafusion_engine) and never imports Hamilton,
so the engine, bundles and views share one definition of how a chain is fitted, scored and ranked.
"""
