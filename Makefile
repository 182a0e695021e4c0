# lenet: the everyday commands. Needs only python3 (>= 3.11) and make.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: help venv test lint train evaluate bench lab book slides translations clean

help:
	@echo "make test   - create $(VENV) if needed, install lenet[dev,docs,grade], run all tests and notebooks (quick mode)"
	@echo "make train  - train LeNet-5 on MNIST (downloads it first if needed), report test accuracy"
	@echo "make lab    - open the notebooks in JupyterLab (RISE: the slideshow button presents them)"
	@echo "make book   - run the notebooks (quick mode; LENET_QUICK=0 for full) and write the website site/ (Chinese: site/zh/)"
	@echo "make slides - run the notebooks (quick mode) and write notebooks/NN_name.slides.html and zh/NN_name.slides.html (offline)"
	@echo "make translations - write the Chinese notebooks notebooks/zh/ and say what is stale or untranslated"
	@echo "make bench  - time a training epoch: lenet vs PyTorch (if installed)"
	@echo "make lint   - ruff lint and format check"

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip

$(VENV)/.installed: pyproject.toml | $(PY)
	$(PY) -m pip install -e ".[dev,docs,grade]"
	touch $@

venv: $(VENV)/.installed

# Notebooks run in quick mode here (small subsets); set LENET_QUICK=0 to run them in full.
# They save their models to a temporary folder, never over the ones in checkpoints/, and the
# folder is removed when the tests end, pass or fail. TESTS chooses what runs (default: all).
TESTS ?= tests notebooks
test: venv
	@checkpoints=$$(mktemp -d) && trap 'rm -rf "$$checkpoints"' EXIT && \
	  LENET_QUICK=$${LENET_QUICK:-1} LENET_CHECKPOINT_DIR=$${LENET_CHECKPOINT_DIR:-$$checkpoints} \
	  $(PY) -m pytest --nbval-lax $(TESTS)

lint: venv
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

train: venv
	$(PY) -m lenet train

bench: venv
	$(PY) -m lenet bench

lab: venv
	$(VENV)/bin/jupyter lab notebooks/

# The website and the slides (tools/book.py), English and Chinese. Both run each notebook once
# (quick mode unless LENET_QUICK=0) and keep the executed copy in build/executed/ for the other.
book: venv
	LENET_QUICK=$${LENET_QUICK:-1} $(PY) tools/book.py site

slides: venv
	LENET_QUICK=$${LENET_QUICK:-1} $(PY) tools/book.py slides

# The Chinese edition (tools/translate.py): notebooks/zh/ from the English notebooks and the
# translations in notebooks/i18n/zh/, then what is out of step (tests/test_translations.py fails on it).
translations: venv
	$(PY) tools/translate.py build
	$(PY) tools/translate.py status

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache build site notebooks/*.slides.html notebooks/zh/*.slides.html notebooks/slides-assets
