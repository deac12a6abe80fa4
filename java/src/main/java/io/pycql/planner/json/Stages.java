package io.pycql.planner.json;

import io.pycql.planner.catalog.CqlSourceTable;
import io.pycql.planner.rel.CqlExchange;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.apache.calcite.rel.RelNode;
import org.apache.calcite.rel.core.TableScan;
import org.apache.calcite.rel.core.Values;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * A plan cut at its exchanges into stages: the operators connected without crossing an
 * exchange are one stage. An exchange belongs to the stage that writes it (its input's);
 * the operator over it reads the intermediate topic in the next stage. Stages are numbered
 * in the plan's topological order, so a stage's upstream stages have smaller numbers and
 * the root's stage is the last.
 *
 * <p>Each stage runs as {@link Stage#tasks} tasks: the partition count of its partitioned
 * inputs (stream sources and exchanges read) when they agree, else 1; a stage over tables
 * alone has 1, and so has a stage with VALUES (its rows are emitted once).
 */
final class Stages {
  /** The template of an intermediate topic; the runtime puts the job's id for {@code {job}}. */
  static final String TOPIC_PREFIX = "_pycql_repartition.{job}.";

  /** One stage. */
  static final class Stage {
    final int id;
    final List<Integer> operators = new ArrayList<>();
    final Set<String> reads = new java.util.LinkedHashSet<>();
    final Set<Integer> upstream = new TreeSet<>();
    final List<String> writes = new ArrayList<>();
    int tasks = 1;

    Stage(int id) {
      this.id = id;
    }
  }

  final List<Stage> stages = new ArrayList<>();
  private final IdentityHashMap<RelNode, Stage> stageOf = new IdentityHashMap<>();
  private final IdentityHashMap<RelNode, String> topics = new IdentityHashMap<>();

  Stages(PlanGraph graph, @Nullable String outputTopic) {
    int n = graph.order.size();
    int[] parent = new int[n];
    for (int i = 0; i < n; i++) {
      parent[i] = i;
    }
    for (RelNode rel : graph.order) {
      for (RelNode input : rel.getInputs()) {
        if (!(input.stripped() instanceof CqlExchange)) {
          union(parent, graph.id(rel), graph.id(input));
        }
      }
    }
    // the components, ordered so that a stage comes after the stages it reads
    java.util.Map<Integer, List<Integer>> members = new java.util.LinkedHashMap<>();
    for (RelNode rel : graph.order) {
      members.computeIfAbsent(find(parent, graph.id(rel)), r -> new ArrayList<>())
          .add(graph.id(rel));
    }
    java.util.Map<Integer, Integer> depth = new java.util.HashMap<>();
    boolean changed = true;
    while (changed) {  // longest path from a stage without exchanges in; the stages are a DAG
      changed = false;
      for (RelNode rel : graph.order) {
        int root = find(parent, graph.id(rel));
        int d = depth.getOrDefault(root, 0);
        for (RelNode input : rel.getInputs()) {
          if (input.stripped() instanceof CqlExchange) {
            d = Math.max(d, depth.getOrDefault(find(parent, graph.id(input)), 0) + 1);
          }
        }
        Integer before = depth.put(root, d);
        changed |= before == null ? d > 0 : before != d;
      }
    }
    List<Integer> roots = new ArrayList<>(members.keySet());
    roots.sort(java.util.Comparator.<Integer>comparingInt(depth::get)
        .thenComparingInt(r -> r));
    for (int root : roots) {
      Stage s = new Stage(stages.size());
      stages.add(s);
      for (int id : members.get(root)) {
        s.operators.add(id);
        stageOf.put(graph.order.get(id), s);
      }
    }
    for (Stage s : stages) {
      List<RelNode> exchanges = new ArrayList<>();
      for (int id : s.operators) {
        if (graph.order.get(id) instanceof CqlExchange) {
          exchanges.add(graph.order.get(id));
        }
      }
      for (int i = 0; i < exchanges.size(); i++) {
        String topic = TOPIC_PREFIX + s.id + (exchanges.size() > 1 ? "-" + i : "");
        topics.put(exchanges.get(i), topic);
        s.writes.add(topic);
      }
    }
    if (outputTopic != null) {
      stageOf.get(graph.root).writes.add(outputTopic);
    }
    for (Stage s : stages) {
      Set<Integer> counts = new TreeSet<>();
      for (int id : s.operators) {
        RelNode rel = graph.order.get(id);
        if (rel instanceof TableScan scan) {
          CqlSourceTable source = Operators.source(scan);
          s.reads.add(source.topic());
          if (source.isStream()) {
            counts.add(source.partitions());
          }
        } else if (rel instanceof Values) {
          counts.add(1);  // constant rows, once: one task
        }
        for (RelNode input : rel.getInputs()) {
          if (input.stripped() instanceof CqlExchange e) {
            s.reads.add(topics.get(e));
            s.upstream.add(stageOf.get(e).id);
            counts.add(e.partitions);
          }
        }
      }
      s.tasks = counts.size() == 1 ? counts.iterator().next() : 1;
    }
  }

  /** The stage of an operator. */
  Stage of(RelNode rel) {
    return stageOf.get(rel.stripped());
  }

  /** The intermediate topic an exchange writes. */
  String topic(CqlExchange exchange) {
    return topics.get(exchange);
  }

  private static int find(int[] parent, int i) {
    while (parent[i] != i) {
      parent[i] = parent[parent[i]];
      i = parent[i];
    }
    return i;
  }

  private static void union(int[] parent, int a, int b) {
    int ra = find(parent, a);
    int rb = find(parent, b);
    if (ra != rb) {
      parent[Math.max(ra, rb)] = Math.min(ra, rb);
    }
  }
}
