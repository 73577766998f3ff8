# Combo's entry points. Every target first makes sure the C libraries the
# adapters link against (and the Redis server the Redis tests start, and
# util-linux, whose setpriv makes started processes end with their parent) are
# installed, so a fresh Debian machine with only the Swift toolchain works.

SWIFT ?= swift
# iproute2 and nftables: the fault matrix's test hosts (network namespaces).
APT_PACKAGES := libzmq3-dev libhiredis-dev redis-server util-linux iproute2 nftables
# Use sudo only when not already root.
SUDO := $(shell [ "$$(id -u)" = "0" ] || echo sudo)

.PHONY: all deps build test test-unit test-clustered faults tsan demo bench clean

all: build

deps:
	@missing=""; \
	for package in $(APT_PACKAGES); do \
		dpkg-query -W -f='$${Status}' $$package 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$package"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi
	@# The MessagePack interoperability tests read and write with Python's msgpack package.
	@python3 -c "import msgpack" 2>/dev/null || python3 -m pip install --quiet msgpack || \
		echo "warning: could not install Python's msgpack; its interoperability tests will be skipped"
	@# The ZeroMQ adapter's interoperability test publishes from Python with pyzmq.
	@python3 -c "import zmq" 2>/dev/null || python3 -m pip install --quiet pyzmq || \
		echo "warning: could not install Python's pyzmq; the ZeroMQ Python publisher test will be skipped"

build: deps
	$(SWIFT) build

test: deps
	$(SWIFT) test

# Everything but the clustered tests that run nodes as separate processes.
test-unit: deps
	COMBO_SKIP_CLUSTERED=1 $(SWIFT) test

# Only the mesh's clustered tests: `combo node` processes on loopback.
test-clustered: deps
	$(SWIFT) test --filter MeshProcessClusterTests

# The whole fault matrix (docs/RELIABILITY.md): the cases `make test` runs
# (partitions, packet loss, pauses, graceful stops; the network cases as root)
# and the long ones (`COMBO_FAULTS=1`: minutes of CPU starvation).
FAULT_FILTER := Fault|LocalHealthProcessTests|MeshBoundsTests|MeshProcessClusterTests|TrackerProcessClusterTests|NodeOutputProcessTests|RedisLossAccountingTests|ZMQHostileInputTests|ZMQHighWaterMarkTests
faults: deps
	COMBO_FAULTS=1 $(SWIFT) test --filter "$(FAULT_FILTER)"

# The core's and the adapters' tests under ThreadSanitizer, in a build folder
# of their own. COMBO_TSAN swaps Synchronization.Mutex, which TSan cannot see
# on Linux, for a pthread mutex (Sources/Combo/Support/SanitizerMutex.swift);
# any report fails the run.
# The core's tests and the in-memory conformance suite are clean. The
# adapters' suites are not in the default: under TSan's slowdown their timing
# bounds fail, and one report between NIO's future and a Swift continuation
# is not yet reduced (docs/RELIABILITY.md, "ThreadSanitizer").
TSAN_FILTER ?= ComboTests|ComboConformanceTests
tsan: deps
	TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" $(SWIFT) test --sanitize=thread -Xswiftc -DCOMBO_TSAN \
		--scratch-path .build-tsan --filter "$(TSAN_FILTER)"

demo: deps
	$(SWIFT) run combo demo

bench: deps
	$(SWIFT) run -c release combo bench local

clean:
	rm -rf .build
