# Two entry points do all set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: demo test bench bench-quick clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -e ".[test,plot,cuda]"
	rm -f $(VENV)/.installed-*; touch $@

# The main job on bundled real data: LSTM and GRU against ARIMA, ETS, Theta and Naive2 on 40 M4
# quarterly series (last 8 quarters held out), ranked by OWA; files go to out/demo/.
demo: $(STAMP)
	$(VENV)/bin/tsrnn backtest data/m4-quarterly-40.csv --horizon 8 --season-length 4 \
		--models lstm,gru,arima,ets,theta,naive2 --output out/demo

test: $(STAMP)
	$(PY) -m pytest

# PyTorch (CPU wheel, exact version) is only for the comparison benchmarks and optional tests.
$(VENV)/.bench: $(STAMP)
	$(PY) -m pip install --quiet -e ".[test,plot,cuda,bench]"
	touch $@

bench: $(VENV)/.bench
	$(PY) benchmarks/kernels.py --json benchmarks/results/kernels.json --markdown benchmarks/results/kernels.md

bench-quick: $(VENV)/.bench
	$(PY) benchmarks/kernels.py --quick

clean:
	rm -rf $(VENV) build *.egg-info
