package io.pycql.planner.optimize;

import io.pycql.planner.catalog.CqlSourceTable;
import io.pycql.planner.rel.CqlExchange;
import io.pycql.planner.rel.CqlRelToStream;
import io.pycql.planner.rel.CqlStreamFilter;
import io.pycql.planner.rel.CqlTopN;
import io.pycql.planner.rel.CqlWindow;
import io.pycql.planner.rel.RelToStreamKind;
import io.pycql.planner.rel.WindowSpec;
import java.util.ArrayList;
import java.util.Collection;
import java.util.IdentityHashMap;
import java.util.List;
import org.apache.calcite.rel.RelNode;
import org.apache.calcite.rel.core.Aggregate;
import org.apache.calcite.rel.core.Filter;
import org.apache.calcite.rel.core.Join;
import org.apache.calcite.rel.core.JoinInfo;
import org.apache.calcite.rel.core.JoinRelType;
import org.apache.calcite.rel.core.Project;
import org.apache.calcite.rel.core.SetOp;
import org.apache.calcite.rel.core.TableScan;
import org.apache.calcite.rel.core.Union;
import org.apache.calcite.rel.core.Window;
import org.apache.calcite.rex.RexInputRef;
import org.apache.calcite.rex.RexNode;

/**
 * A pass (run last) that puts a {@link CqlExchange} wherever an operator's state needs its
 * input partitioned otherwise than it is, so that the plan can run as stages of
 * partition-parallel tasks joined by repartition topics.
 *
 * <p>Each source is partitioned as declared ({@link Partitioning#of}: a stream by the
 * hash of its {@code key} over its partitions, a table broadcast to every task).
 * Row-by-row operators keep their input's partitioning (mapped through projections), and
 * so do windows defined by time (NOW, RANGE, SLIDE, UNBOUNDED): their synopses expire by
 * time, per task. What each stateful operator needs:
 *
 * <ul>
 * <li>an aggregate with GROUP BY: its input hashed on some of the group columns;
 *   without: one task;</li>
 * <li>{@code [PARTITION BY k ROWS n]} and {@code [PARTITION BY k SESSION g]}: hashed on
 *   some of {@code k}; {@code [ROWS n]} and {@code [SESSION g]} (every tuple in the
 *   sessions of one key): one task;</li>
 * <li>a join of two partitioned inputs: both hashed on paired equi-join keys over the same
 *   partitions (co-partitioned). When one input is already hashed on join keys, only the
 *   other is exchanged to match it; a join without equi keys runs in one task. A table
 *   joins anything (each task holds it), unless an outer join would emit its unmatched
 *   rows in every task;</li>
 * <li>ISTREAM, DSTREAM and INTERSECT, EXCEPT, UNION (distinct): equal rows in one task
 *   (hashed on some of the columns); RSTREAM, ORDER BY/FETCH, VALUES: one task.</li>
 * <li>window functions ({@code over}) and a top-N per partition ({@code top_n}): hashed
 *   on some of the PARTITION BY columns (for {@code over}, those of every group); without
 *   PARTITION BY: one task.</li>
 * </ul>
 *
 * <p>An exchange goes right below the operator that needs it, and further below windows
 * defined by time used once (a stream is repartitioned rather than the changes of a
 * window's relation). A plan in which every need is met keeps no exchange: one stage.
 *
 * <pre>
 * SELECT b, COUNT(*) FROM S [RANGE 10 SECONDS] GROUP BY b     (S: key a, 6 partitions)
 *   Aggregate(group={1})                Aggregate(group={1})
 *     Window(RANGE 10 s)        ==&gt;        Window(RANGE 10 s)
 *       Source(S)                           Exchange(hash [$1], 6 partitions)
 *                                             Source(S)
 * </pre>
 */
public final class ExchangeRule {
  /** An operator rewritten, and how its rows are partitioned. */
  private record Placed(RelNode rel, Partitioning partitioning) {
  }

  private final IdentityHashMap<RelNode, Placed> done = new IdentityHashMap<>();
  private final IdentityHashMap<RelNode, Integer> uses = new IdentityHashMap<>();

  private ExchangeRule() {
  }

  /** Returns {@code root} with the exchanges its operators need. */
  public static RelNode apply(RelNode root) {
    ExchangeRule rule = new ExchangeRule();
    rule.count(root);
    return rule.visit(root).rel;
  }

  private void count(RelNode rel) {
    for (RelNode input : rel.getInputs()) {
      if (uses.merge(input, 1, Integer::sum) == 1) {
        count(input);
      }
    }
  }

  private Placed visit(RelNode rel) {
    Placed cached = done.get(rel);
    if (cached != null) {
      return cached;
    }
    List<Placed> inputs = new ArrayList<>();
    for (RelNode input : rel.getInputs()) {
      inputs.add(visit(input));
    }
    Placed placed = place(rel, inputs);
    done.put(rel, placed);
    return placed;
  }

  private Placed place(RelNode rel, List<Placed> in) {
    if (rel instanceof TableScan scan) {
      CqlSourceTable source = scan.getTable().unwrap(CqlSourceTable.class);
      return new Placed(rel, source == null ? Partitioning.single() : Partitioning.of(source));
    }
    if (rel instanceof CqlWindow w) {
      Placed input = in.get(0);
      if (w.spec.kind == WindowSpec.Kind.ROWS) {
        return rebuilt(rel, List.of(toSingle(input)));
      }
      if (w.spec.kind == WindowSpec.Kind.PARTITION
          || (w.spec.kind == WindowSpec.Kind.SESSION && !w.spec.partitionKeys.isEmpty())) {
        return rebuilt(rel, List.of(grouped(input, w.spec.partitionKeys)));
      }
      if (w.spec.kind == WindowSpec.Kind.SESSION) {  // every tuple of one session key
        return rebuilt(rel, List.of(toSingle(input)));
      }
      return new Placed(copy(rel, List.of(input.rel)), input.partitioning);
    }
    if (rel instanceof Filter) {
      return new Placed(copy(rel, List.of(in.get(0).rel)), in.get(0).partitioning);
    }
    if (rel instanceof Project p) {
      return new Placed(copy(rel, List.of(in.get(0).rel)),
          in.get(0).partitioning.project(copied(p.getProjects())));
    }
    if (rel instanceof CqlStreamFilter f) {
      return new Placed(copy(rel, List.of(in.get(0).rel)),
          in.get(0).partitioning.project(copied(f.projects)));
    }
    if (rel instanceof Aggregate a) {
      // grouping sets: the columns of every set (a ROLLUP's () spans all keys: one task)
      org.apache.calcite.util.ImmutableBitSet common = a.getGroupSet();
      for (org.apache.calcite.util.ImmutableBitSet set : a.getGroupSets()) {
        common = common.intersect(set);
      }
      List<Integer> group = common.asList();
      if (group.isEmpty()) {
        return rebuilt(rel, List.of(toSingle(in.get(0))));
      }
      Placed input = grouped(in.get(0), group);
      return new Placed(copy(rel, List.of(input.rel)),
          input.partitioning.project(a.getGroupSet().asList()));
    }
    if (rel instanceof Window over) {
      // every group's rows in one task: hashed on the PARTITION BY columns all groups share
      org.apache.calcite.util.ImmutableBitSet common = null;
      for (Window.Group g : over.groups) {
        common = common == null ? g.keys : common.intersect(g.keys);
      }
      return partitionedBy(rel, in.get(0), common == null ? List.of() : common.asList());
    }
    if (rel instanceof CqlTopN top) {
      return partitionedBy(rel, in.get(0), top.partitionKeys.asList());
    }
    if (rel instanceof CqlRelToStream s) {
      Placed input = s.kind == RelToStreamKind.RSTREAM ? toSingle(in.get(0))
          : grouped(in.get(0), allColumns(in.get(0).rel));
      return new Placed(copy(rel, List.of(input.rel)), input.partitioning);
    }
    if (rel instanceof Join j) {
      return join(j, in.get(0), in.get(1));
    }
    if (rel instanceof Union u && u.all) {
      return unionAll(rel, in);
    }
    if (rel instanceof SetOp) {
      return setOp(rel, in);
    }
    // ORDER BY/FETCH, VALUES, anything else: one task
    List<RelNode> single = new ArrayList<>();
    for (Placed input : in) {
      single.add(toSingle(input).rel);
    }
    return new Placed(copy(rel, single), Partitioning.single());
  }

  /**
   * {@code rel} (its output: its input's columns, then its own), whose state is per
   * {@code keys} of its one input: that input hashed on some of them, or in one task.
   */
  private Placed partitionedBy(RelNode rel, Placed input, List<Integer> keys) {
    Placed placed = keys.isEmpty() ? toSingle(input) : grouped(input, keys);
    return new Placed(copy(rel, List.of(placed.rel)), placed.partitioning);
  }

  /** {@code rel} over {@code inputs}, all of whose partitionings it keeps: one task. */
  private Placed rebuilt(RelNode rel, List<Placed> inputs) {
    List<RelNode> rels = new ArrayList<>();
    inputs.forEach(p -> rels.add(p.rel));
    return new Placed(copy(rel, rels), inputs.get(0).partitioning);
  }

  private Placed join(Join j, Placed left, Placed right) {
    JoinInfo info = JoinInfo.createWithStrictEquality(j.getLeft(), j.getRight(),
        j.getCondition());
    List<Integer> lk = info.leftKeys;
    List<Integer> rk = info.rightKeys;
    int width = j.getLeft().getRowType().getFieldCount();
    JoinRelType type = j.getJoinType();
    Partitioning l = left.partitioning;
    Partitioning r = right.partitioning;
    boolean leftBroadcast = l.kind() == Partitioning.Kind.BROADCAST;
    boolean rightBroadcast = r.kind() == Partitioning.Kind.BROADCAST;
    if (leftBroadcast && rightBroadcast) {
      return joined(j, left, right, Partitioning.broadcast());
    }
    // a broadcast input is whole in every task: fine unless its unmatched rows are emitted
    if (rightBroadcast) {  // RIGHT, FULL: the unmatched rows of the table, once
      Placed kept = type.generatesNullsOnLeft() ? toSingle(left) : left;
      return joined(j, kept, right, kept.partitioning);
    }
    if (leftBroadcast) {  // LEFT, FULL, SEMI, ANTI emit rows of the table alone: once
      boolean emitsTable = type.generatesNullsOnRight() || !type.projectsRight();
      Placed kept = emitsTable ? toSingle(right) : right;
      return joined(j, left, kept, emitsTable ? Partitioning.single()
          : kept.partitioning.shift(width));
    }
    if (l.kind() == Partitioning.Kind.SINGLE && r.kind() == Partitioning.Kind.SINGLE) {
      return joined(j, left, right, Partitioning.single());
    }
    if (lk.isEmpty()) {
      return joined(j, toSingle(left), toSingle(right), Partitioning.single());
    }
    if (!coPartitioned(l, r, lk, rk)) {
      List<Integer> rightMatch = matching(l, lk, rk, j, true);
      List<Integer> leftMatch = matching(r, rk, lk, j, false);
      if (rightMatch != null) {
        right = exchange(right, Partitioning.hash(rightMatch, l.partitions()));
      } else if (leftMatch != null) {
        left = exchange(left, Partitioning.hash(leftMatch, r.partitions()));
      } else {
        int n = Math.max(l.partitions(), r.partitions());
        left = exchange(left, Partitioning.hash(lk, n));
        right = exchange(right, Partitioning.hash(rk, n));
      }
    }
    Partitioning out;
    if (type == JoinRelType.FULL) {
      out = Partitioning.random(left.partitioning.partitions());
    } else if (type == JoinRelType.RIGHT) {
      out = right.partitioning.shift(width);
    } else {
      out = left.partitioning;
    }
    return joined(j, left, right, out);
  }

  private Placed joined(Join j, Placed left, Placed right, Partitioning out) {
    return new Placed(copy(j, List.of(left.rel, right.rel)), out);
  }

  /** Whether both are hashed over as many partitions on keys the join pairs in order. */
  private static boolean coPartitioned(Partitioning l, Partitioning r, List<Integer> lk,
      List<Integer> rk) {
    if (l.kind() != Partitioning.Kind.HASH || r.kind() != Partitioning.Kind.HASH
        || l.partitions() != r.partitions() || l.keys().size() != r.keys().size()) {
      return false;
    }
    for (int i = 0; i < l.keys().size(); i++) {
      boolean paired = false;
      for (int p = 0; p < lk.size(); p++) {
        paired |= lk.get(p).equals(l.keys().get(i)) && rk.get(p).equals(r.keys().get(i));
      }
      if (!paired) {
        return false;
      }
    }
    return true;
  }

  /**
   * When {@code have} (one input's) is hashed on join keys {@code own}, the other input's
   * keys paired with them, in its hash order (their types equal, so the values hash
   * alike); else null.
   */
  private static List<Integer> matching(Partitioning have, List<Integer> own,
      List<Integer> other, Join j, boolean haveIsLeft) {
    if (have.kind() != Partitioning.Kind.HASH) {
      return null;
    }
    List<Integer> result = new ArrayList<>();
    for (int k : have.keys()) {
      int at = own.indexOf(k);
      if (at < 0) {
        return null;
      }
      int o = other.get(at);
      RelNode mine = haveIsLeft ? j.getLeft() : j.getRight();
      RelNode theirs = haveIsLeft ? j.getRight() : j.getLeft();
      if (mine.getRowType().getFieldList().get(k).getType().getSqlTypeName()
          != theirs.getRowType().getFieldList().get(o).getType().getSqlTypeName()) {
        return null;
      }
      result.add(o);
    }
    return result;
  }

  private Placed unionAll(RelNode rel, List<Placed> in) {
    Partitioning first = in.get(0).partitioning;
    boolean same = in.stream().allMatch(p -> p.partitioning.equals(first));
    if (same) {
      return rebuilt(rel, in);
    }
    boolean anyBroadcast = in.stream()
        .anyMatch(p -> p.partitioning.kind() == Partitioning.Kind.BROADCAST);
    if (anyBroadcast) {  // a table's rows once, beside the others: one task
      List<Placed> single = new ArrayList<>();
      for (Placed p : in) {
        single.add(p.partitioning.kind() == Partitioning.Kind.BROADCAST ? p : toSingle(p));
      }
      return new Placed(copy(rel, rels(single)), Partitioning.single());
    }
    return new Placed(copy(rel, rels(in)), Partitioning.random(maxPartitions(in)));
  }

  private Placed setOp(RelNode rel, List<Placed> in) {
    Partitioning first = in.get(0).partitioning;
    boolean same = in.stream().allMatch(p -> p.partitioning.equals(first));
    if (same && first.kind() != Partitioning.Kind.RANDOM) {
      return rebuilt(rel, in);
    }
    boolean anyBroadcast = in.stream()
        .anyMatch(p -> p.partitioning.kind() == Partitioning.Kind.BROADCAST);
    int n = anyBroadcast ? 1 : maxPartitions(in);
    List<Integer> all = allColumns(rel);
    List<Placed> moved = new ArrayList<>();
    for (Placed p : in) {
      moved.add(p.partitioning.kind() == Partitioning.Kind.BROADCAST ? p
          : exchange(p, Partitioning.hash(all, n)));
    }
    return new Placed(copy(rel, rels(moved)), Partitioning.hash(all, n));
  }

  /** {@code input}, exchanged unless rows equal on {@code columns} are in one task. */
  private Placed grouped(Placed input, List<Integer> columns) {
    if (input.partitioning.groups(columns)) {
      return input;
    }
    return exchange(input, Partitioning.hash(columns, input.partitioning.partitions()));
  }

  private Placed toSingle(Placed input) {
    if (input.partitioning.groups(List.of())) {
      return input;  // single, or broadcast (each task holds it all)
    }
    return exchange(input, Partitioning.single());
  }

  /** {@code input} repartitioned as {@code target}, the exchange below time windows. */
  private Placed exchange(Placed input, Partitioning target) {
    if (input.partitioning.equals(target)) {
      return input;
    }
    return new Placed(exchanged(input.rel, target), target);
  }

  private RelNode exchanged(RelNode rel, Partitioning target) {
    if (rel instanceof CqlWindow w && w.spec.isTimeBased() && uses.getOrDefault(rel, 0) <= 1) {
      return copy(w, List.of(exchanged(w.getInput(), target)));
    }
    return target.kind() == Partitioning.Kind.SINGLE ? CqlExchange.single(rel)
        : CqlExchange.hash(rel, target.keys(), target.partitions());
  }

  private static RelNode copy(RelNode rel, List<RelNode> inputs) {
    boolean same = true;
    for (int i = 0; i < inputs.size(); i++) {
      same &= inputs.get(i) == rel.getInput(i);
    }
    return same ? rel : rel.copy(rel.getTraitSet(), inputs);
  }

  private static List<RelNode> rels(Collection<Placed> placed) {
    List<RelNode> rels = new ArrayList<>();
    placed.forEach(p -> rels.add(p.rel));
    return rels;
  }

  private static int maxPartitions(List<Placed> in) {
    int n = 1;
    for (Placed p : in) {
      n = Math.max(n, p.partitioning.partitions());
    }
    return n;
  }

  /** For each expression, the input column it copies, or -1. */
  private static List<Integer> copied(List<? extends RexNode> exprs) {
    List<Integer> sources = new ArrayList<>();
    for (RexNode e : exprs) {
      sources.add(e instanceof RexInputRef ref ? ref.getIndex() : -1);
    }
    return sources;
  }

  private static List<Integer> allColumns(RelNode rel) {
    List<Integer> all = new ArrayList<>();
    for (int i = 0; i < rel.getRowType().getFieldCount(); i++) {
      all.add(i);
    }
    return all;
  }
}
