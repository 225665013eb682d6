package io.compozy.cache.adapter;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Set;
import org.junit.jupiter.api.Test;

/** What counts as a failover in the masters a client lists, in the orders Redisson can list them. */
class MasterChangesTest {

    private static final long SECOND = 1_000_000_000L;
    private final MasterChanges changes = new MasterChanges();

    @Test
    void aMasterReplacedInOneLookIsOneFailover() {
        changes.observe(Set.of("a:1", "b:1", "c:1"), 0);
        var failover = changes.observe(Set.of("a:2", "b:1", "c:1"), SECOND);
        assertThat(failover).hasValueSatisfying(f -> {
            assertThat(f.gone()).containsExactly("a:1");
            assertThat(f.successors()).containsExactly("a:2");
            assertThat(f.count()).isEqualTo(1);
        });
    }

    @Test
    void theDeadMasterDroppedBeforeItsSuccessorAppearsIsOneFailover() {
        changes.observe(Set.of("a:1", "b:1", "c:1"), 0);
        assertThat(changes.observe(Set.of("b:1", "c:1"), SECOND)).isEmpty();
        assertThat(changes.observe(Set.of("b:1", "c:1"), 2 * SECOND)).isEmpty();
        assertThat(changes.observe(Set.of("a:2", "b:1", "c:1"), 5 * SECOND)).hasValueSatisfying(f ->
                assertThat(f.gone()).containsExactly("a:1"));
        assertThat(changes.observe(Set.of("a:2", "b:1", "c:1"), 6 * SECOND)).as("counted once").isEmpty();
    }

    @Test
    void theSuccessorListedBeforeTheDeadMasterIsDroppedIsOneFailover() {
        // A Cluster scan can add the promoted replica's entry before it removes the failed master's.
        changes.observe(Set.of("a:1", "b:1", "c:1"), 0);
        assertThat(changes.observe(Set.of("a:1", "a:2", "b:1", "c:1"), SECOND)).isEmpty();
        assertThat(changes.newInLastLook()).as("logged as a new master meanwhile").containsExactly("a:2");
        assertThat(changes.observe(Set.of("a:2", "b:1", "c:1"), 2 * SECOND)).hasValueSatisfying(f -> {
            assertThat(f.gone()).containsExactly("a:1");
            assertThat(f.successors()).containsExactly("a:2");
        });
    }

    @Test
    void aMasterThatComesBackOrAScaleOutIsNoFailover() {
        changes.observe(Set.of("a:1", "b:1"), 0);
        assertThat(changes.observe(Set.of("b:1"), SECOND)).isEmpty();
        assertThat(changes.observe(Set.of("a:1", "b:1"), 2 * SECOND)).as("the same master back").isEmpty();
        assertThat(changes.observe(Set.of("a:1", "b:1", "c:1"), 3 * SECOND)).as("then a scale-out").isEmpty();
        assertThat(changes.observe(Set.of("a:1", "b:1", "c:1"), 4 * SECOND)).isEmpty();
    }

    @Test
    void changesFurtherApartThanThePairingWindowAreNoFailover() {
        long window = MasterChanges.PAIRING_WINDOW.toNanos();
        changes.observe(Set.of("a:1", "b:1"), 0);
        assertThat(changes.observe(Set.of("a:1", "b:1", "c:1"), SECOND)).isEmpty();
        assertThat(changes.observe(Set.of("b:1", "c:1"), 2 * SECOND + window)).as("a scale-in long after").isEmpty();
        assertThat(changes.observe(Set.of("b:1", "c:1", "d:1"), 3 * SECOND + window))
                .as("a master lost a second ago and one joining now pair").isPresent();
    }
}
