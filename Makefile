# faxgate — one way to run things. CI calls the same targets as a person.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: install run test lint unit integration bench docs clean lock image test-image screenshots fuzz

install:
	@scripts/bootstrap.sh

## make run: the whole appliance in the foreground on its embedded defaults (spool under ./var).
run: install
	@$(PY) -m faxgate run

lint: install
	$(VENV)/bin/ruff check app tests bench
	$(VENV)/bin/ruff format --check app tests bench
	$(VENV)/bin/mypy

## make test: install, lint, then the whole suite.
test: lint
	$(VENV)/bin/pytest -q --ignore=tests/image

unit: install
	$(VENV)/bin/pytest -q tests/unit

docs: install
	$(PY) -m faxgate.settings.docgen > docs/configuration.md

## make screenshots: refresh docs/screenshots/ from the browser tests.
screenshots: install
	FAXGATE_UPDATE_SCREENSHOTS=1 $(VENV)/bin/pytest -q tests/e2e/admin -k screenshots

## make fuzz: the fuzz tests of tests/faults/ with many more cases than make test.
fuzz: install
	FAXGATE_FUZZ_EXAMPLES=$${FAXGATE_FUZZ_EXAMPLES:-10000} $(VENV)/bin/pytest -q -p no:cacheprovider tests/faults/test_fuzz_*.py

bench: install
	@for b in bench/*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache

## make lock: pin the runtime dependencies the image installs (requirements.lock).
lock:
	rm -rf build/lock-venv && python3 -m venv build/lock-venv
	build/lock-venv/bin/pip install -q .
	build/lock-venv/bin/pip freeze --exclude faxgate > requirements.lock
	rm -rf build/lock-venv

## make image: the appliance image (a debootstrapped base first when the engine has none).
image:
	scripts/build-image.sh

## make test-image: build the image, run it, and test it from inside (testinfra) and outside.
test-image: install
	scripts/build-image.sh
	$(VENV)/bin/pytest -q tests/image
