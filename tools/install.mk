# `make install`: a stripped build/oomwatch (its debug info in a separate
# file found through .gnu_debuglink), the systemd unit, the config example
# and a man page generated from --help. PREFIX (default /usr/local) and
# DESTDIR as usual; the config goes to SYSCONFDIR (default /etc) and is never
# overwritten. Included by the top-level Makefile.
PREFIX ?= /usr/local
SYSCONFDIR ?= /etc
BINDIR := $(PREFIX)/bin
UNITDIR ?= $(PREFIX)/lib/systemd/system
MANDIR := $(PREFIX)/share/man
DEBUGDIR := $(PREFIX)/lib/debug

$(BUILD)/install/oomwatch.debug: $(BUILD)/oomwatch
	@mkdir -p $(@D)
	$(Q)objcopy --only-keep-debug $< $@

# Stripped, with a debuglink naming oomwatch.debug (gdb finds it under
# $(DEBUGDIR)$(BINDIR)/).
$(BUILD)/install/oomwatch: $(BUILD)/oomwatch $(BUILD)/install/oomwatch.debug
	$(Q)objcopy --strip-all --add-gnu-debuglink=$(BUILD)/install/oomwatch.debug $< $@

$(BUILD)/install/oomwatch.1: $(BUILD)/oomwatch tools/man-commands.sh
	@mkdir -p $(@D)
	$(Q)tools/man-commands.sh $< > $(BUILD)/install/commands.h2m
	$(Q)help2man --no-info --section=1 --name="memory-cgroup agent: eBPF OOM kills, limit rescue, GOMEMLIMIT hints" \
		--include=$(BUILD)/install/commands.h2m --output=$@ $<

$(BUILD)/install/oomwatch.service: deploy/systemd/oomwatch.service
	@mkdir -p $(@D)
	$(Q)sed -e 's|/usr/local/bin/oomwatch|$(BINDIR)/oomwatch|g' -e 's|/etc/oomwatch/|$(SYSCONFDIR)/oomwatch/|g' $< > $@

.PHONY: install install-files check-unit
install: $(BUILD)/install/oomwatch $(BUILD)/install/oomwatch.debug $(BUILD)/install/oomwatch.1 \
		$(BUILD)/install/oomwatch.service
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(DEBUGDIR)$(BINDIR) $(DESTDIR)$(UNITDIR) $(DESTDIR)$(MANDIR)/man1 \
		$(DESTDIR)$(SYSCONFDIR)/oomwatch
	install -m 0755 $(BUILD)/install/oomwatch $(DESTDIR)$(BINDIR)/oomwatch
	install -m 0644 $(BUILD)/install/oomwatch.debug $(DESTDIR)$(DEBUGDIR)$(BINDIR)/oomwatch.debug
	install -m 0644 $(BUILD)/install/oomwatch.service $(DESTDIR)$(UNITDIR)/oomwatch.service
	install -m 0644 $(BUILD)/install/oomwatch.1 $(DESTDIR)$(MANDIR)/man1/oomwatch.1
	@if [ -e $(DESTDIR)$(SYSCONFDIR)/oomwatch/oomwatch.toml ]; then \
		echo "kept $(DESTDIR)$(SYSCONFDIR)/oomwatch/oomwatch.toml (example: deploy/oomwatch.toml)"; \
	else install -m 0644 deploy/oomwatch.toml $(DESTDIR)$(SYSCONFDIR)/oomwatch/oomwatch.toml; fi

# systemd-analyze verify on the unit (its binary path pointed at the build),
# where systemd-analyze exists; tests/install.sh runs it too.
check-unit: $(BUILD)/oomwatch
	$(Q)if command -v systemd-analyze >/dev/null; then \
		sed 's|/usr/local/bin/oomwatch|$(abspath $(BUILD))/oomwatch|g' deploy/systemd/oomwatch.service \
			> $(BUILD)/oomwatch.service && \
		systemd-analyze verify --man=no $(BUILD)/oomwatch.service && echo "unit: systemd-analyze verify clean"; \
	else echo "unit: systemd-analyze not installed, not verified"; fi
