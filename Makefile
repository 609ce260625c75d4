# The two commands of the README: `make demo` and `make test`. Everything else is a helper.
BUILD ?= build
ASAN_BUILD ?= build-asan
TESTDATA ?= $(abspath ../shared/testdata)
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=
# ccache keys on paths relative to the checkout, so a fresh clone anywhere reuses earlier builds.
export CCACHE_BASEDIR ?= $(CURDIR)
export CCACHE_NOHASHDIR ?= true
# libmongoc, initialised before main by a library constructor, keeps counters in a /dev/shm file
# per process; the kill -9 tests leave hundreds behind, and a later process that reuses one's PID
# gets a warning on stderr. The tests (and the demo) keep those counters in private memory.
export MONGOC_DISABLE_SHM ?= 1

.PHONY: all deps build demo test test-fast test-asan bench format fuzz clean

all: build

deps:
	@scripts/install-deps.sh

$(BUILD)/build.ninja: | deps
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release -DCANONRY_TESTDATA=$(TESTDATA) $(CMAKE_FLAGS)

build: $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)

# The example pipeline on embedded defaults: see examples/orders/README.md.
demo: build
	@scripts/demo.sh $(BUILD)/canonry

# Every test: the release build, then the sanitizer build (without the long fault-injection tests,
# label `faults`, which the release build runs), then the fuzzers for a short while.
test: build
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS) -O $(BUILD)/ctest.out
	$(MAKE) test-asan
	@scripts/fuzz.sh --smoke
	@scripts/test-summary.sh $(BUILD) $(ASAN_BUILD)

test-fast: build
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)

$(ASAN_BUILD)/build.ninja: | deps
	cmake -S . -B $(ASAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCANONRY_SANITIZE=ON \
	  -DCANONRY_TESTDATA=$(TESTDATA) $(CMAKE_FLAGS)

test-asan: $(ASAN_BUILD)/build.ninja
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	ASAN_OPTIONS=detect_leaks=1 ctest --test-dir $(ASAN_BUILD) --output-on-failure -j $(JOBS) -LE faults \
	  -O $(ASAN_BUILD)/ctest.out

bench: build
	@bench/run.sh

fuzz:
	@scripts/fuzz.sh

format:
	find src tests bench -name '*.cpp' -o -name '*.h' | xargs clang-format -i

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) build-fuzz
