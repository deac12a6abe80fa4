package io.pycql.planner.json;

import java.util.List;
import java.util.Objects;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * How much an operator keeps (its synopsis), or how large a relation can grow:
 * {@code none}, {@code rows} (bound = a row count), {@code range} (bound = milliseconds:
 * the elements stamped in [τ - bound, τ]) or {@code unbounded}; {@code keys} are the
 * field indexes the state is partitioned by (empty = one partition).
 *
 * <pre>{@code
 * StateBound.range(30_000).toText();   // "range 30 s"
 * StateBound.rows(3, List.of(0)).toText();   // "rows 3 per [$0]"
 * }</pre>
 */
public final class StateBound {
  /** The kinds, from the smallest state to the largest. */
  public enum Kind { NONE, ROWS, RANGE, UNBOUNDED }

  public final Kind kind;
  /** Rows or milliseconds; null for NONE and UNBOUNDED. */
  public final @Nullable Long bound;
  /** Field indexes the state is partitioned by. */
  public final List<Integer> keys;

  private StateBound(Kind kind, @Nullable Long bound, List<Integer> keys) {
    this.kind = kind;
    this.bound = bound;
    this.keys = List.copyOf(keys);
  }

  public static StateBound none() {
    return new StateBound(Kind.NONE, null, List.of());
  }

  public static StateBound rows(long n, List<Integer> keys) {
    return new StateBound(Kind.ROWS, n, keys);
  }

  public static StateBound range(long millis) {
    return new StateBound(Kind.RANGE, millis, List.of());
  }

  public static StateBound unbounded(List<Integer> keys) {
    return new StateBound(Kind.UNBOUNDED, null, keys);
  }

  /** The same bound partitioned by {@code newKeys}. */
  public StateBound withKeys(List<Integer> newKeys) {
    return new StateBound(kind, bound, newKeys);
  }

  /**
   * The bound of two relations kept together (a join's or a set operation's inputs):
   * unbounded if either is, else the longest range if either is time-bounded, else the
   * sum of the row counts. A partitioned ROWS bound (N rows per key) counts as unbounded,
   * since the number of keys is not bounded.
   */
  public static StateBound together(StateBound a, StateBound b) {
    if (a.isUnboundedInTotal() || b.isUnboundedInTotal()) {
      return unbounded(List.of());
    }
    if (a.kind == Kind.RANGE || b.kind == Kind.RANGE) {
      long ms = Math.max(a.kind == Kind.RANGE ? a.bound : 0, b.kind == Kind.RANGE ? b.bound : 0);
      return range(ms);
    }
    long rows = a.rowCount() + b.rowCount();
    return rows == 0 && a.kind == Kind.NONE && b.kind == Kind.NONE ? none()
        : rows(rows, List.of());
  }

  /**
   * The bound of the join of two relations: as {@link #together} but row counts multiply.
   */
  public static StateBound product(StateBound a, StateBound b) {
    StateBound t = together(a, b);
    if (t.kind != Kind.ROWS) {
      return t;
    }
    return rows(Math.multiplyExact(a.rowCount(), b.rowCount()), List.of());
  }

  private boolean isUnboundedInTotal() {
    return kind == Kind.UNBOUNDED || (kind == Kind.ROWS && !keys.isEmpty());
  }

  private long rowCount() {
    return kind == Kind.ROWS ? bound : 0;
  }

  /** The JSON {@code kind}: lower case. */
  public String kindName() {
    return kind.name().toLowerCase(java.util.Locale.ROOT);
  }

  /** The EXPLAIN text: {@code none}, {@code rows 10}, {@code range 30 s}, {@code unbounded}. */
  public String toText() {
    String text;
    switch (kind) {
    case ROWS:
      text = "rows " + bound;
      break;
    case RANGE:
      text = "range " + duration(bound);
      break;
    default:
      text = kindName();
    }
    if (!keys.isEmpty()) {
      StringBuilder b = new StringBuilder(text).append(" per [");
      for (int i = 0; i < keys.size(); i++) {
        b.append(i == 0 ? "$" : ", $").append(keys.get(i));
      }
      text = b.append(']').toString();
    }
    return text;
  }

  /** Milliseconds in the largest unit that divides them: 30000 -> "30 s", 90 -> "90 ms". */
  public static String duration(long ms) {
    if (ms != 0 && ms % 3_600_000 == 0) {
      return ms / 3_600_000 + " h";
    }
    if (ms != 0 && ms % 60_000 == 0) {
      return ms / 60_000 + " min";
    }
    if (ms != 0 && ms % 1_000 == 0) {
      return ms / 1_000 + " s";
    }
    return ms + " ms";
  }

  @Override public boolean equals(Object o) {
    return o instanceof StateBound s && kind == s.kind && Objects.equals(bound, s.bound)
        && keys.equals(s.keys);
  }

  @Override public int hashCode() {
    return Objects.hash(kind, bound, keys);
  }

  @Override public String toString() {
    return toText();
  }
}
