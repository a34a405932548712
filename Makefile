# The front door. `make help` lists the targets.
#
#   make run           build and start the whole stack locally (Ctrl-C stops it)
#   make test          everything CI runs before the container test, in order
#   make compose-test  the container stack test
#
# Variables: BUILD_DIR [build], BUILD_TYPE [RelWithDebInfo],
#            E2E_ARGS (passed to pytest by `make e2e`, e.g. E2E_ARGS="-k login"),
#            BENCH_ARGS (passed to bench/run.py by `make bench`, e.g. BENCH_ARGS="--duration 10").
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

BUILD_DIR ?= build
BUILD_TYPE ?= RelWithDebInfo
# The sanitizer build (clang, ASan + UBSan, Debug -O1, ccache) that also
# holds the libFuzzer targets.
ASAN_BUILD_DIR ?= build-asan
FUZZ_SECONDS ?= 600
E2E_ARGS ?=
BENCH_ARGS ?=
CLANG_FORMAT ?= clang-format
# The C++ files clang-format owns (folders that do not exist yet are skipped).
FORMAT_DIRS := $(wildcard worker tests fuzz bench)
FORMAT_FILES = $(shell find $(FORMAT_DIRS) -type f \( -name '*.cpp' -o -name '*.cc' -o -name '*.h' -o -name '*.hpp' \) 2>/dev/null | sort)

step = @printf '\n\033[1m==> %s\033[0m\n' "$(1)"

.PHONY: help deps build unit store-test e2e test run migrate user admin-key format format-check compose-test nginx-check clean distclean api-lint docs bench bench-smoke \
  sanitize-build sanitize-test fuzz fault-test cluster-test

help:
	@echo "make run           install deps, build, start DB + worker pool + nginx on 127.0.0.1:\$${HTTP_PORT:-8080}"
	@echo "make test          deps, format-check, build, unit, store-test, e2e, bench-smoke, sanitize-test, short fuzz, fault-test"
	@echo "make build         configure and build into $(BUILD_DIR)/ ($(BUILD_TYPE))"
	@echo "make migrate       apply migrations (MYSQL_HOST's server, else var/mysql)"
	@echo "make user ARGS=\"disable EMAIL\"  operator commands against the same database"
	@echo "make admin-key ARGS=\"create --name NAME --scopes users:read\"  admin API keys, likewise"
	@echo "make unit          unit tests (ctest -L unit)"
	@echo "make store-test    store tests against a private MariaDB"
	@echo "make e2e           end-to-end tests through nginx on a throwaway stack (E2E_ARGS=...)"
	@echo "make nginx-check   the nginx template against a stand-in FastCGI responder"
	@echo "make sanitize-test unit and store tests under ASan + UBSan ($(ASAN_BUILD_DIR)/)"
	@echo "make fuzz          each libFuzzer target for FUZZ_SECONDS [600]; new inputs join fuzz/corpus/"
	@echo "make fault-test    fault tests: workers killed, database away, overload, reload, stop, slow clients"
	@echo "make cluster-test  three local Galera nodes, two pools: e2e, races across nodes, node and pool killed (~5-8 min)"
	@echo "make api-lint      lint api/openapi.yaml (spectral, .spectral.yaml)"
	@echo "make docs          build the API docs site (Swagger UI, openapi.json) into $(BUILD_DIR)/docs"
	@echo "make bench         each endpoint against its ceiling (a few minutes; var/bench/)"
	@echo "make bench-smoke   the benchmark for a few seconds per run, to prove it works"
	@echo "make format        clang-format -i the C++ sources; format-check only checks"
	@echo "make compose-test  the container stack test"
	@echo "make clean         remove build trees; distclean also var/ (local DB, keys, logs)"

deps:
	scripts/install-deps.sh

build:
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE)
	ninja -C $(BUILD_DIR)

unit: build
	ctest --test-dir $(BUILD_DIR) -L unit --output-on-failure --no-tests=error

store-test: build
	scripts/store-tests.sh $(BUILD_DIR)

e2e: build
	BUILD_DIR=$(BUILD_DIR) scripts/e2e-stack.sh $(E2E_ARGS)

nginx-check:
	scripts/nginx-check/run.sh

sanitize-build:
	cmake -S . -B $(ASAN_BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=clang \
	  -DCMAKE_CXX_COMPILER=clang++ -DAUTHD_SANITIZE=ON -DAUTHD_FUZZ=ON \
	  -DCMAKE_CXX_FLAGS_DEBUG="-O1 -gline-tables-only" -DCMAKE_C_FLAGS_DEBUG="-O1 -gline-tables-only"
	ninja -C $(ASAN_BUILD_DIR)

sanitize-test: sanitize-build
	$(ASAN_BUILD_DIR)/unit_tests --gtest_brief=1
	scripts/store-tests.sh $(ASAN_BUILD_DIR) --gtest_brief=1

fuzz: sanitize-build
	scripts/fuzz.sh $(FUZZ_SECONDS) $(ASAN_BUILD_DIR) --keep

fault-test: build
	BUILD_DIR=$(BUILD_DIR) scripts/fault-tests.sh

# Not a step of `make test` (4.6 minutes alone, 8 on a loaded machine, on
# top of a cold `make test`'s 20): .ci/run runs it after `make test`.
cluster-test: build
	BUILD_DIR=$(BUILD_DIR) scripts/cluster-test.sh

# The OpenAPI document: every built-in rule, warnings fail too (.spectral.yaml
# says which rules are relaxed and why).
api-lint:
	@scripts/npm-deps.sh >/dev/null
	node_modules/.bin/spectral lint --fail-severity=warn --ruleset .spectral.yaml api/openapi.yaml

docs:
	@scripts/npm-deps.sh >/dev/null
	scripts/build-docs.sh $(BUILD_DIR)/docs

# Figures and ratios to the ceilings measured in the same run (README,
# "Performance"); targets are reported, not enforced.
bench: build
	BUILD_DIR=$(BUILD_DIR) /usr/bin/python3 bench/run.py $(BENCH_ARGS)

bench-smoke: build
	BUILD_DIR=$(BUILD_DIR) /usr/bin/python3 bench/run.py --smoke

format:
	$(if $(FORMAT_FILES),$(CLANG_FORMAT) -i $(FORMAT_FILES),@echo "no C++ files")

format-check:
	@$(if $(FORMAT_FILES),$(CLANG_FORMAT) --dry-run -Werror $(FORMAT_FILES),echo "no C++ files")
	@echo "format-check: $(words $(FORMAT_FILES)) files clean"

# Each step runs only if the previous one passed.
test:
	$(call step,[1/7] install dependencies)
	scripts/install-deps.sh
	$(call step,[2/7] format check)
	$(MAKE) --no-print-directory format-check
	$(call step,API document lint (spectral))
	$(MAKE) --no-print-directory api-lint
	$(call step,[3/7] build ($(BUILD_TYPE)))
	$(MAKE) --no-print-directory build
	$(call step,[4/7] unit tests)
	ctest --test-dir $(BUILD_DIR) -L unit --output-on-failure --no-tests=error
	$(call step,[5/7] store tests)
	scripts/store-tests.sh $(BUILD_DIR)
	$(call step,nginx configuration check (lanes, headers, limits, several pools))
	$(MAKE) --no-print-directory nginx-check
	$(call step,[6/7] end-to-end tests)
	BUILD_DIR=$(BUILD_DIR) scripts/e2e-stack.sh $(E2E_ARGS)
	$(call step,[7/7] benchmark smoke run)
	BUILD_DIR=$(BUILD_DIR) /usr/bin/python3 bench/run.py --smoke
	$(call step,[+] sanitizer build: unit and store tests under ASan + UBSan)
	$(MAKE) --no-print-directory sanitize-test
	$(call step,[+] fuzzing: the repo corpus then 15 s per target)
	scripts/fuzz.sh 15 $(ASAN_BUILD_DIR)
	$(call step,[+] fault tests against the real stack)
	BUILD_DIR=$(BUILD_DIR) scripts/fault-tests.sh
	$(call step,make test: all steps passed)

run:
	BUILD_DIR=$(BUILD_DIR) scripts/run-local.sh

migrate: build
	BUILD_DIR=$(BUILD_DIR) scripts/authd-local.sh migrate

# Operator commands against the local stack, e.g. make user ARGS="disable ann@example.com"
user: build
	BUILD_DIR=$(BUILD_DIR) scripts/authd-local.sh user $(ARGS)

# Admin API keys against the local stack, e.g. make admin-key ARGS="list"
admin-key: build
	BUILD_DIR=$(BUILD_DIR) scripts/authd-local.sh admin-key $(ARGS)

compose-test:
	@test -x scripts/compose-test.sh || { echo "scripts/compose-test.sh is missing" >&2; exit 1; }
	scripts/compose-test.sh

clean:
	rm -rf $(BUILD_DIR) build-*/

# var/ holds the local database, the generated SECRET_KEY and the logs.
distclean: clean
	@if [ -f var/run/run-local.lock ] && ! flock -n var/run/run-local.lock true; then \
	  echo "make run is still running; stop it first" >&2; exit 1; fi
	@if [ -d var/mysql ]; then scripts/mariadb.sh stop var/mysql; fi
	rm -rf var/
