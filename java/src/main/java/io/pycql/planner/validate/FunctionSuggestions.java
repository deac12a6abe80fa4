package io.pycql.planner.validate;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Close matches for a function name the validator does not know, for its error:
 * {@code No match found for function signature FOO(<NUMERIC>); did you mean FLOOR?}.
 *
 * <p>A candidate is a function of {@link CqlOperatorTable} at most two edits (Levenshtein)
 * away, or one the name is a prefix of; the best are shown: fewest edits, then those with the
 * same first letter, at most three.
 */
public final class FunctionSuggestions {
  private static final Pattern NO_MATCH =
      Pattern.compile("No match found for function signature ([A-Za-z_][A-Za-z_0-9]*)\\(.*");
  private static final int MAX_SHOWN = 3;

  private FunctionSuggestions() {
  }

  /** {@code message} with "; did you mean X?" when it is an unknown function's and X exists. */
  public static String amend(String message) {
    Matcher m = NO_MATCH.matcher(message);
    if (!m.matches()) {
      return message;
    }
    String name = m.group(1).toUpperCase(Locale.ROOT);
    if (CqlOperatorTable.functionNames().contains(name)) {
      return message; // a known function with arguments it does not take
    }
    List<String> close = closest(name);
    if (close.isEmpty()) {
      return message;
    }
    String names = close.size() == 1 ? close.get(0)
        : String.join(", ", close.subList(0, close.size() - 1)) + " or "
            + close.get(close.size() - 1);
    return message + "; did you mean " + names + "?";
  }

  /** The closest function names to {@code name} (upper case), best first. */
  public static List<String> closest(String name) {
    List<String> best = new ArrayList<>();
    int bestScore = Integer.MAX_VALUE;
    for (String candidate : CqlOperatorTable.functionNames()) {
      int d = distance(name, candidate);
      if (candidate.startsWith(name) && name.length() >= 3) {
        d = Math.min(d, 1);
      }
      if (d > 2 || d >= Math.max(candidate.length(), name.length())) {
        continue;
      }
      int score = d * 2 + (candidate.charAt(0) == name.charAt(0) ? 0 : 1);
      if (score < bestScore) {
        best.clear();
        bestScore = score;
      }
      if (score == bestScore && best.size() < MAX_SHOWN) {
        best.add(candidate);
      }
    }
    return best;
  }

  /** The Levenshtein distance of {@code a} and {@code b}. */
  static int distance(String a, String b) {
    int[] prev = new int[b.length() + 1];
    int[] cur = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      prev[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      cur[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int sub = prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
        cur[j] = Math.min(sub, Math.min(prev[j] + 1, cur[j - 1] + 1));
      }
      int[] t = prev;
      prev = cur;
      cur = t;
    }
    return prev[b.length()];
  }
}
