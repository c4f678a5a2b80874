package io.vmscale.balancer;

import java.util.List;
import java.util.Locale;
import java.util.random.RandomGenerator;

/** How the balancer picks a replica for the next request, among those that can take one. */
public interface Dispatch {

    /** A replica as a policy sees it. */
    interface Candidate {
        int inFlight();
    }

    /** Picks one of the candidates (never empty). Called on the balancer's thread only. */
    <C extends Candidate> C pick(List<C> candidates);

    /** Each in turn. */
    static Dispatch roundRobin() {
        return new Dispatch() {
            private int next;

            @Override
            public <C extends Candidate> C pick(List<C> candidates) {
                C chosen = candidates.get(Math.floorMod(next, candidates.size()));
                next = Math.floorMod(next + 1, candidates.size());
                return chosen;
            }
        };
    }

    /** The one with the fewest requests in flight (the first of them on a tie). */
    static Dispatch leastOutstanding() {
        return new Dispatch() {
            private int start;

            @Override
            public <C extends Candidate> C pick(List<C> candidates) {
                // start the scan one further each time, so that ties spread instead of piling on the first
                int size = candidates.size();
                start = start + 1 < size ? start + 1 : 0; // no division: this runs for every request
                C best = null;
                for (int i = 0, at = start; i < size; i++, at = at + 1 < size ? at + 1 : 0) {
                    C c = candidates.get(at);
                    if (best == null || c.inFlight() < best.inFlight()) {
                        best = c;
                    }
                }
                return best;
            }
        };
    }

    /** Two at random, the less loaded of the two: near least-outstanding without a full scan. */
    static Dispatch powerOfTwoChoices(RandomGenerator random) {
        return new Dispatch() {
            @Override
            public <C extends Candidate> C pick(List<C> candidates) {
                if (candidates.size() == 1) {
                    return candidates.get(0);
                }
                int a = random.nextInt(candidates.size());
                int b = random.nextInt(candidates.size() - 1);
                if (b >= a) {
                    b++;
                }
                C first = candidates.get(a);
                C second = candidates.get(b);
                return second.inFlight() < first.inFlight() ? second : first;
            }
        };
    }

    /** round-robin, least-outstanding or power-of-two. */
    static Dispatch named(String name, RandomGenerator random) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "round-robin" -> roundRobin();
            case "least-outstanding" -> leastOutstanding();
            case "power-of-two" -> powerOfTwoChoices(random);
            default -> throw new IllegalArgumentException("unknown dispatch policy '" + name
                    + "' (known: round-robin, least-outstanding, power-of-two)");
        };
    }
}
