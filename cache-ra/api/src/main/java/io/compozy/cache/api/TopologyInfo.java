package io.compozy.cache.api;

import java.util.List;

/**
 * The Redis deployment behind the client, as the client sees it now. Holds no secret.
 *
 * @param kind {@code single} (one node, also the embedded server), {@code cluster} or {@code sentinel}
 * @param nodes every data node (and every sentinel) the client knows, with its role and whether it answered
 *     PING just now
 * @param failovers how many times a master was replaced by another (a Sentinel or Cluster failover) since the
 *     adapter started
 */
public record TopologyInfo(String kind, List<Node> nodes, long failovers) {

    /**
     * @param address {@code host:port}
     * @param role {@code master}, {@code replica} or {@code sentinel}
     * @param reachable whether it answered PING within a second
     */
    public record Node(String address, String role, boolean reachable) {
    }
}
