package io.pycql.planner.optimize;

import io.pycql.planner.catalog.CqlColumn;
import io.pycql.planner.catalog.CqlSourceTable;
import io.pycql.planner.rel.CqlRelToStream;
import io.pycql.planner.rel.CqlWindow;
import io.pycql.planner.rel.RelToStreamKind;
import io.pycql.planner.rel.WindowSpec;
import java.util.List;
import org.apache.calcite.plan.RelOptRule;
import org.apache.calcite.plan.RelOptUtil;
import org.apache.calcite.plan.hep.HepPlanner;
import org.apache.calcite.plan.hep.HepProgramBuilder;
import org.apache.calcite.rel.RelNode;
import org.apache.calcite.schema.SchemaPlus;
import org.apache.calcite.tools.FrameworkConfig;
import org.apache.calcite.tools.Frameworks;
import org.apache.calcite.tools.RelBuilder;

/**
 * A small catalog and helpers to build logical CQL plans with a RelBuilder, as the
 * frontend would produce them (every stream read through a {@link CqlWindow}).
 *
 * <ul>
 * <li>stream {@code PosSpeedStr(car_id INTEGER, speed INTEGER, pos INTEGER)}, topic
 *   {@code pos-speed}, record timestamps;</li>
 * <li>stream {@code Bids(auction INTEGER, price DECIMAL(10,2), ts BIGINT)}, topic
 *   {@code bids}, timestamp column {@code ts};</li>
 * <li>table {@code Cars(car_id INTEGER NOT NULL, owner VARCHAR(20))}, primary key
 *   {@code car_id}, topic {@code cars}.</li>
 * </ul>
 */
public final class PlanFixture {
  public final RelBuilder b;

  public PlanFixture() {
    SchemaPlus root = Frameworks.createRootSchema(true);
    root.add("PosSpeedStr", new CqlSourceTable("PosSpeedStr", true, "pos-speed", null, "json",
        List.of(), List.of(col("car_id", "INTEGER", true), col("speed", "INTEGER", true),
            col("pos", "INTEGER", true))));
    root.add("Bids", new CqlSourceTable("Bids", true, "bids", "ts", "csv", List.of(),
        List.of(col("auction", "INTEGER", true),
            new CqlColumn("price", "DECIMAL", true, 10, 2), col("ts", "BIGINT", false))));
    root.add("Cars", new CqlSourceTable("Cars", false, "cars", null, "json", List.of("car_id"),
        List.of(col("car_id", "INTEGER", false),
            new CqlColumn("owner", "VARCHAR", true, 20, null))));
    FrameworkConfig config = Frameworks.newConfigBuilder().defaultSchema(root).build();
    b = RelBuilder.create(config);
  }

  private static CqlColumn col(String name, String type, boolean nullable) {
    return new CqlColumn(name, type, nullable, null, null);
  }

  /** Pushes {@code stream [spec]} on the builder. */
  public RelBuilder window(String stream, WindowSpec spec) {
    RelNode scan = b.scan(stream).build();
    return b.push(CqlWindow.create(scan, spec));
  }

  /** Pops the builder's top and pushes {@code kind} over it. */
  public RelBuilder toStream(RelToStreamKind kind) {
    return b.push(CqlRelToStream.create(b.build(), kind));
  }

  /** Calcite's plan text (one node a line, no ids). */
  public static String str(RelNode rel) {
    return RelOptUtil.toString(rel);
  }

  /** Applies {@code rules} alone with a HepPlanner, to a fixpoint. */
  public static RelNode apply(RelNode rel, RelOptRule... rules) {
    HepPlanner planner = new HepPlanner(
        new HepProgramBuilder().addRuleCollection(List.of(rules)).build());
    planner.setRoot(rel);
    return planner.findBestExp();
  }

  /** Lines joined with newlines, with a final newline: the shape of {@link #str}. */
  public static String lines(String... lines) {
    return String.join("\n", lines) + "\n";
  }
}
