package io.compozy.cache.it.sessions;

import jakarta.servlet.annotation.WebServlet;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpSession;
import java.io.IOException;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;

/**
 * The test WAR's only servlet: a plain Servlet API application with no dependency on the product. Each
 * GET counts in the session, and keeps an object of the application's own class there (which the
 * server can only read back with the application's class loader).
 */
@WebServlet("/count")
public class CounterServlet extends HttpServlet {

    private static final long serialVersionUID = 1L;

    /** An application class in the session: the ports of the servers that served each visit. */
    public static final class Visits implements Serializable {
        private static final long serialVersionUID = 1L;
        final List<Integer> ports = new ArrayList<>();
    }

    @Override
    protected void doGet(final HttpServletRequest request, final HttpServletResponse response) throws IOException {
        HttpSession session = request.getSession(true);
        Integer count = (Integer) session.getAttribute("count");
        Visits visits = (Visits) session.getAttribute("visits");
        if (visits == null) {
            visits = new Visits();
        }
        int next = count == null ? 1 : count + 1;
        visits.ports.add(request.getLocalPort());
        session.setAttribute("count", next);
        session.setAttribute("visits", visits);
        response.setContentType("text/plain");
        response.getWriter().print("count=" + next + " ports=" + visits.ports);
    }
}
