package io.pycql.planner.optimize;

import io.pycql.planner.catalog.CqlSourceTable;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;

/**
 * How the rows an operator outputs are spread over the tasks of its stage: all in one
 * task ({@code SINGLE}), by the hash of some of its columns ({@code HASH}: rows equal on
 * {@code keys} are in one task), by nothing known ({@code RANDOM}), or all in every task
 * ({@code BROADCAST}: a table, which every task reads whole). {@code partitions} is the
 * number of tasks.
 */
record Partitioning(Kind kind, List<Integer> keys, int partitions) {
  enum Kind { SINGLE, HASH, RANDOM, BROADCAST }

  Partitioning {
    keys = List.copyOf(keys);
  }

  static Partitioning single() {
    return new Partitioning(Kind.SINGLE, List.of(), 1);
  }

  static Partitioning broadcast() {
    return new Partitioning(Kind.BROADCAST, List.of(), 1);
  }

  /** Hash on {@code keys} over {@code n} partitions; one partition is {@link #single()}. */
  static Partitioning hash(List<Integer> keys, int n) {
    return n <= 1 ? single() : keys.isEmpty() ? random(n) : new Partitioning(Kind.HASH, keys, n);
  }

  static Partitioning random(int n) {
    return n <= 1 ? single() : new Partitioning(Kind.RANDOM, List.of(), n);
  }

  /**
   * A source's: a table is broadcast; a stream of one partition is single, else hashed on
   * its declared key columns (random without one).
   */
  static Partitioning of(CqlSourceTable source) {
    if (!source.isStream()) {
      return broadcast();
    }
    List<Integer> keys = new ArrayList<>();
    for (String k : source.partitionKey()) {
      int at = -1;
      for (int i = 0; i < source.columns().size(); i++) {
        if (source.columns().get(i).name.equalsIgnoreCase(k)) {
          at = i;
        }
      }
      if (at < 0) {
        return random(source.partitions());  // a key that is not a column: nothing known
      }
      keys.add(at);
    }
    return hash(keys, source.partitions());
  }

  /** Whether the rows equal on {@code columns} are always in one task. */
  boolean groups(Collection<Integer> columns) {
    return switch (kind) {
      case SINGLE, BROADCAST -> true;
      case HASH -> columns.containsAll(keys);
      case RANDOM -> false;
    };
  }

  /**
   * The partitioning of rows made of {@code sources} (for each output column, the input
   * column it copies, or -1): keys that are not copied leave it random.
   */
  Partitioning project(List<Integer> sources) {
    if (kind != Kind.HASH) {
      return this;
    }
    List<Integer> mapped = new ArrayList<>();
    for (int k : keys) {
      int at = sources.indexOf(k);
      if (at < 0) {
        return random(partitions);
      }
      mapped.add(at);
    }
    return hash(mapped, partitions);
  }

  /** The same keys moved by {@code offset} columns (the right input of a join). */
  Partitioning shift(int offset) {
    if (kind != Kind.HASH) {
      return this;
    }
    List<Integer> moved = new ArrayList<>();
    keys.forEach(k -> moved.add(k + offset));
    return hash(moved, partitions);
  }

  @Override public String toString() {
    return kind.name().toLowerCase(Locale.ROOT) + (keys.isEmpty() ? "" : " " + keys)
        + (partitions > 1 ? " x" + partitions : "");
  }
}
