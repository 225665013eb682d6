package io.compozy.cache.it.support;

import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * For the lifecycle tests, which start and stop the server themselves: each test begins from the shipped
 * configuration (no backend dropin; the test passes its own environment) and leaves no server running.
 */
public final class ShippedServerPerTest implements BeforeEachCallback, AfterEachCallback {

    @Override
    public void beforeEach(final ExtensionContext context) {
        BackendModeListener.removeDropin();
    }

    @Override
    public void afterEach(final ExtensionContext context) {
        if (LibertyProcess.jvmPid().flatMap(ProcessHandle::of).isPresent()) {
            LibertyProcess.stop();
        }
    }
}
