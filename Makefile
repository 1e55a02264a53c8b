# The two commands: `make run` and `make test`. Everything else is a step of theirs.
BUILD_DIR ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=
DATA_DIR ?= ./data

.PHONY: setup build run test test-unit test-asan test-ubsan fuzz bench format tidy clean

setup:
	@bash scripts/setup.sh

$(BUILD_DIR)/build.ninja:
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS)

build: setup $(BUILD_DIR)/build.ninja
	cmake --build $(BUILD_DIR) -j $(JOBS)

run: build
	$(BUILD_DIR)/stackhouse run --data-dir $(DATA_DIR)

# The whole suite: the normal build's tests (end-to-end included), the AddressSanitizer build
# (everything that does not load the embedded store), the UndefinedBehaviorSanitizer build
# (everything but the UI's browser tests), and each fuzzer for a bounded time.
test: build
	bash scripts/test.sh

test-unit: build
	ctest --test-dir $(BUILD_DIR) --output-on-failure -j $(JOBS)

bench: build
	bash scripts/bench.sh

format:
	find src tests bench -name '*.h' -o -name '*.cc' | xargs clang-format -i

tidy: build
	find src -name '*.cc' | xargs clang-tidy -p $(BUILD_DIR) --quiet

clean:
	rm -rf build build-asan build-ubsan build-fuzz
