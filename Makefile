# Two entry points do all set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: demo test docs docs-check bench bench-quick bench-scale bench-covariates clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -e ".[test,plot,cuda,dask,sktime,polars,docs]"
	rm -f $(VENV)/.installed-*; touch $@

# The main job on bundled real data: LSTM and GRU against ARIMA, ETS, Theta and Naive2 on 40 M4
# quarterly series (last 8 quarters held out), ranked by OWA; files go to out/demo/.
demo: $(STAMP)
	$(VENV)/bin/tsrnn backtest data/m4-quarterly-40.csv --horizon 8 --season-length 4 \
		--models lstm,gru,arima,ets,theta,naive2 --output out/demo

test: $(STAMP)
	$(PY) -m pytest

# The documentation site (MkDocs + Material + mkdocstrings) into out/site; warnings are errors.
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --quiet

# Every page opened in headless Chromium (Debian's chromium): rendered, navigable, no raw markdown, no
# broken link; screenshots in out/site-check/.
docs-check: docs
	$(PY) .ci/docs_check.py

# PyTorch (CPU wheel, exact version) is only for the comparison benchmarks and optional tests.
$(VENV)/.bench: $(STAMP)
	$(PY) -m pip install --quiet -e ".[test,plot,cuda,bench]"
	touch $@

bench: $(VENV)/.bench
	$(PY) benchmarks/kernels.py --json benchmarks/results/kernels.json --markdown benchmarks/results/kernels.md

bench-quick: $(VENV)/.bench
	$(PY) benchmarks/kernels.py --quick

# The scale benchmark's peers (NeuralForecast's LSTM, statsforecast's AutoETS) live in an environment of
# their own, so that their pins (torch, pandas) never touch tsrnn's.
PEERS := .venv-peers
$(PEERS)/.installed:
	test -x $(PEERS)/bin/python || $(PYTHON) -m venv $(PEERS)
	$(PEERS)/bin/pip install --quiet "neuralforecast==3.3.0" "statsforecast>=2.0"
	touch $@

bench-scale: $(STAMP) $(PEERS)/.installed
	$(PY) benchmarks/scale.py --peer-python $(PEERS)/bin/python --markdown benchmarks/results/scale.md

bench-covariates: $(STAMP) $(PEERS)/.installed
	$(PY) benchmarks/covariates.py --peer-python $(PEERS)/bin/python --markdown benchmarks/results/covariates.md \
		--json benchmarks/results/covariates.json

clean:
	rm -rf $(VENV) $(PEERS) build *.egg-info
