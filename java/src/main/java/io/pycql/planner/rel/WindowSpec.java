package io.pycql.planner.rel;

import java.util.List;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * A CQL stream-to-relation window, as written after a stream reference.
 *
 * <pre>
 *   S [NOW]                         WindowSpec.now()
 *   S [UNBOUNDED], S [RANGE UNBOUNDED], or no window on a stream
 *                                   WindowSpec.unbounded()
 *   S [RANGE 30 SECONDS]            WindowSpec.range(30_000)
 *   S [RANGE 1 HOUR SLIDE 5 MINUTES] WindowSpec.range(3_600_000, 300_000)
 *   S [ROWS 10]                     WindowSpec.rows(10)
 *   S [PARTITION BY a, b ROWS 3]    WindowSpec.partition(List.of(0, 1), 3)
 *   S [ROWS 10 SLIDE 5]             WindowSpec.rows(10, 5)
 *   S [PARTITION BY a ROWS 3 SLIDE 2] WindowSpec.partition(List.of(0), 3, 2)
 *   S [SESSION 30 SECONDS]          WindowSpec.session(List.of(), 30_000)
 *   S [PARTITION BY a SESSION 30 SECONDS] WindowSpec.session(List.of(0), 30_000)
 * </pre>
 *
 * <p>An immutable value.
 */
public final class WindowSpec {
  /** The kinds of window. */
  public enum Kind { NOW, UNBOUNDED, RANGE, ROWS, PARTITION, SESSION }

  public final Kind kind;
  /** RANGE only: the window's length in milliseconds. */
  public final long rangeMillis;
  /** RANGE ... SLIDE only: the slide in milliseconds; else null. */
  public final Long slideMillis;
  /** ROWS and PARTITION: the number of rows kept (per partition). */
  public final long rows;
  /** ROWS ... SLIDE and PARTITION ... ROWS ... SLIDE only: the slide in rows; else null. */
  public final Long slideRows;
  /** SESSION only: the gap in milliseconds that closes a session. */
  public final long gapMillis;
  /** PARTITION and SESSION: field indexes of the input (SESSION: possibly none); else empty. */
  public final List<Integer> partitionKeys;

  private WindowSpec(Kind kind, long rangeMillis, Long slideMillis, long rows, Long slideRows,
      long gapMillis, List<Integer> partitionKeys) {
    this.kind = Objects.requireNonNull(kind, "kind");
    this.rangeMillis = rangeMillis;
    this.slideMillis = slideMillis;
    this.rows = rows;
    this.slideRows = slideRows;
    this.gapMillis = gapMillis;
    this.partitionKeys = List.copyOf(partitionKeys);
  }

  private static final WindowSpec NOW =
      new WindowSpec(Kind.NOW, 0, null, 0, null, 0, List.of());
  private static final WindowSpec UNBOUNDED =
      new WindowSpec(Kind.UNBOUNDED, 0, null, 0, null, 0, List.of());

  public static WindowSpec now() {
    return NOW;
  }

  public static WindowSpec unbounded() {
    return UNBOUNDED;
  }

  public static WindowSpec range(long ms) {
    if (ms < 0) {
      throw new IllegalArgumentException("negative range: " + ms);
    }
    return new WindowSpec(Kind.RANGE, ms, null, 0, null, 0, List.of());
  }

  public static WindowSpec range(long ms, long slideMs) {
    if (ms < 0 || slideMs <= 0) {
      throw new IllegalArgumentException("bad range/slide: " + ms + "/" + slideMs);
    }
    return new WindowSpec(Kind.RANGE, ms, slideMs, 0, null, 0, List.of());
  }

  public static WindowSpec rows(long n) {
    if (n < 0) {
      throw new IllegalArgumentException("negative row count: " + n);
    }
    return new WindowSpec(Kind.ROWS, 0, null, n, null, 0, List.of());
  }

  public static WindowSpec rows(long n, long slide) {
    if (n < 0 || slide <= 0) {
      throw new IllegalArgumentException("bad rows/slide: " + n + "/" + slide);
    }
    return new WindowSpec(Kind.ROWS, 0, null, n, slide, 0, List.of());
  }

  public static WindowSpec partition(List<Integer> keys, long n) {
    if (n < 0) {
      throw new IllegalArgumentException("negative row count: " + n);
    }
    return new WindowSpec(Kind.PARTITION, 0, null, n, null, 0, keys);
  }

  public static WindowSpec partition(List<Integer> keys, long n, long slide) {
    if (n < 0 || slide <= 0) {
      throw new IllegalArgumentException("bad rows/slide: " + n + "/" + slide);
    }
    return new WindowSpec(Kind.PARTITION, 0, null, n, slide, 0, keys);
  }

  /** {@code [SESSION gap]} ({@code keys} empty) or {@code [PARTITION BY ... SESSION gap]}. */
  public static WindowSpec session(List<Integer> keys, long gapMs) {
    if (gapMs <= 0) {
      throw new IllegalArgumentException("bad session gap: " + gapMs);
    }
    return new WindowSpec(Kind.SESSION, 0, null, 0, null, gapMs, keys);
  }

  /**
   * NOW, UNBOUNDED and RANGE windows are defined by time alone; ROWS and PARTITION by counts,
   * SESSION by the gaps between the elements: a filter or projection below those changes them.
   */
  public boolean isTimeBased() {
    return kind == Kind.NOW || kind == Kind.UNBOUNDED || kind == Kind.RANGE;
  }

  @Override public String toString() {
    switch (kind) {
    case NOW:
      return "NOW";
    case UNBOUNDED:
      return "UNBOUNDED";
    case RANGE:
      return slideMillis == null
          ? "RANGE " + rangeMillis + " ms"
          : "RANGE " + rangeMillis + " ms SLIDE " + slideMillis + " ms";
    case ROWS:
      return "ROWS " + rows + (slideRows == null ? "" : " SLIDE " + slideRows);
    case PARTITION:
      return "PARTITION BY "
          + partitionKeys.stream().map(k -> "$" + k).collect(Collectors.joining(", "))
          + " ROWS " + rows + (slideRows == null ? "" : " SLIDE " + slideRows);
    case SESSION:
      return (partitionKeys.isEmpty() ? "" : "PARTITION BY "
          + partitionKeys.stream().map(k -> "$" + k).collect(Collectors.joining(", ")) + " ")
          + "SESSION " + gapMillis + " ms";
    default:
      throw new AssertionError(kind);
    }
  }

  @Override public boolean equals(Object o) {
    if (this == o) {
      return true;
    }
    if (!(o instanceof WindowSpec)) {
      return false;
    }
    WindowSpec w = (WindowSpec) o;
    return kind == w.kind && rangeMillis == w.rangeMillis
        && Objects.equals(slideMillis, w.slideMillis) && rows == w.rows
        && Objects.equals(slideRows, w.slideRows) && gapMillis == w.gapMillis
        && partitionKeys.equals(w.partitionKeys);
  }

  @Override public int hashCode() {
    return Objects.hash(kind, rangeMillis, slideMillis, rows, slideRows, gapMillis, partitionKeys);
  }
}
