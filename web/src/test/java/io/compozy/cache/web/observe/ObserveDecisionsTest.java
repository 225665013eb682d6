package io.compozy.cache.web.observe;

import static org.assertj.core.api.Assertions.assertThat;

import io.compozy.cache.api.PersistenceStatus;
import io.compozy.cache.api.SnapshotInfo;
import io.compozy.cache.web.store.StoreException;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The decisions behind the status label and the persistence health state. */
class ObserveDecisionsTest {

    private static final Instant NOW = Instant.parse("2026-11-25T12:00:00Z");

    @Test
    void theStatusIsOkTheDomainOutcomeOrError() {
        assertThat(Outcome.ofResult("x", "")).isEqualTo("ok");
        assertThat(Outcome.ofResult(Optional.empty(), "")).isEqualTo("ok");
        assertThat(Outcome.ofResult(Optional.empty(), "held")).isEqualTo("held");
        assertThat(Outcome.ofResult(false, "duplicate")).isEqualTo("duplicate");
        assertThat(Outcome.ofResult(null, "not_found")).isEqualTo("not_found");
        assertThat(Outcome.ofResult(true, "duplicate")).isEqualTo("ok");
        assertThat(Outcome.ofResult(Optional.of(1), "not_found")).isEqualTo("ok");

        assertThat(Outcome.ofFailure(new StoreException(StoreException.Reason.ETAG_MISMATCH, "m"))).isEqualTo("mismatch");
        assertThat(Outcome.ofFailure(new StoreException(StoreException.Reason.ALREADY_EXISTS, "m"))).isEqualTo("duplicate");
        assertThat(Outcome.ofFailure(StoreException.notFound("m"))).isEqualTo("not_found");
        assertThat(Outcome.ofFailure(new IllegalStateException("Redis went away"))).isEqualTo("error");
        // Every reason has a label of its own, so no domain outcome hides among errors.
        assertThat(Outcome.domainOutcomes()).hasSize(StoreException.Reason.values().length).doesNotContain("error", "ok");
    }

    @Test
    void persistenceIsOkThenDegradedThenFailingPastTheThreshold() {
        Duration threshold = Duration.ofMinutes(15);
        SnapshotInfo restored = new SnapshotInfo(7, NOW.minus(Duration.ofHours(3)), 10, 1000, "7.0.15", "00", false, 12);

        SnapshotHealth ok = SnapshotHealth.of(status(Optional.empty(), Optional.of(restored)), NOW, threshold);
        assertThat(ok.state()).isEqualTo("ok");
        assertThat(ok.up()).isTrue();
        assertThat(ok.lastGood()).contains(restored); // the restored generation counts until this server takes one

        SnapshotHealth degraded = SnapshotHealth.of(status(Optional.of(NOW.minus(Duration.ofMinutes(14))),
                Optional.of(restored)), NOW, threshold);
        assertThat(degraded.state()).isEqualTo("degraded");
        assertThat(degraded.up()).isTrue();
        assertThat(degraded.failingFor()).contains(Duration.ofMinutes(14));

        SnapshotHealth failing = SnapshotHealth.of(status(Optional.of(NOW.minus(Duration.ofMinutes(16))),
                Optional.empty()), NOW, threshold);
        assertThat(failing.state()).isEqualTo("failing");
        assertThat(failing.up()).isFalse();
    }

    private static PersistenceStatus status(final Optional<Instant> failingSince, final Optional<SnapshotInfo> restored) {
        return new PersistenceStatus("/data", Duration.ofMinutes(5), 3, false, false, Optional.empty(),
                failingSince.map(since -> "BGSAVE failed"), restored, 0, failingSince.isPresent() ? 3 : 0, 0, 0,
                failingSince);
    }

    @Test
    void aRefreshIntervalUnder100MillisecondsIsRefusedNamingTheKey() {
        org.assertj.core.api.Assertions.assertThatThrownBy(
                () -> new BackendMetrics(null, null, null, true, Duration.ofMillis(50)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(BackendMetrics.REFRESH_KEY).hasMessageContaining("100 ms");
        new BackendMetrics(null, null, null, true, Duration.ofMillis(100));
    }
}
