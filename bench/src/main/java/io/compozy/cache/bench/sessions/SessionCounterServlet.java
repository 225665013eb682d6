package io.compozy.cache.bench.sessions;

import jakarta.servlet.annotation.WebServlet;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpSession;
import java.io.IOException;
import java.io.Serializable;

/**
 * The session bench's endpoint (bench/run packages it alone into a plain WAR with no dependency on the
 * product): each GET reads and rewrites a small session, a counter and an object of the application's own
 * class, as a shopping cart or a login would. Fixed size, so every request costs the same in any round.
 */
@WebServlet("/count")
public class SessionCounterServlet extends HttpServlet {

    private static final long serialVersionUID = 1L;

    /** An application class in the session, which the server reads back with the application's class loader. */
    public static final class Visit implements Serializable {
        private static final long serialVersionUID = 1L;
        int lastPort;
        long lastAtMillis;
    }

    @Override
    protected void doGet(final HttpServletRequest request, final HttpServletResponse response) throws IOException {
        HttpSession session = request.getSession(true);
        Integer count = (Integer) session.getAttribute("count");
        Visit visit = session.getAttribute("visit") instanceof Visit v ? v : new Visit();
        int next = count == null ? 1 : count + 1;
        visit.lastPort = request.getLocalPort();
        visit.lastAtMillis = System.currentTimeMillis();
        session.setAttribute("count", next);
        session.setAttribute("visit", visit);
        response.setContentType("text/plain");
        response.getWriter().print("count=" + next);
    }
}
