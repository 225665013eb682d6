/** Operator endpoints under {@code /api/admin}: status now, snapshots later. */
package io.compozy.cache.web.admin;
