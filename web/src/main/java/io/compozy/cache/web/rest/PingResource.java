package io.compozy.cache.web.rest;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;

/**
 * {@code GET /api/ping}: a constant answer that touches no store and no Redis. It tells a load balancer
 * that the REST stack answers, and it is bench/run's reference for what a request costs on this server
 * apart from the stores (row 8: a resource GET against it).
 */
@Path("ping")
@ApplicationScoped
public class PingResource {

    static final String PONG = "{\"pong\":true}";

    @GET
    @Produces(MediaType.APPLICATION_JSON)
    public String ping() {
        return PONG;
    }
}
