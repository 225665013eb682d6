/** Operator endpoints under {@code /api/admin}: status, snapshots, and the EJB timer that drives snapshots. */
package io.compozy.cache.web.admin;
