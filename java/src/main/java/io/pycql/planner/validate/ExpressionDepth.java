package io.pycql.planner.validate;

import com.fasterxml.jackson.databind.JsonNode;
import io.pycql.planner.CqlPlannerError;
import io.pycql.planner.ddl.SqlShowCql;
import io.pycql.planner.parser.SqlCqlRelToStream;
import io.pycql.planner.parser.SqlCqlWindow;
import java.util.ArrayDeque;
import java.util.Deque;
import org.apache.calcite.sql.SqlCall;
import org.apache.calcite.sql.SqlKind;
import org.apache.calcite.sql.SqlNode;
import org.apache.calcite.sql.SqlNodeList;
import org.apache.calcite.sql.parser.SqlParserPos;

/**
 * The nesting limit of expressions (docs/cql.md, "Expressions").
 *
 * <p>The Python runtime compiles every expression of a plan into Python source, and reads the
 * plan with orjson: both have nesting limits (orjson 1024 levels of JSON, CPython about 200
 * levels of parentheses). pycql therefore accepts expressions of at most {@link #MAX_LEVELS}
 * levels: a column, literal or parameter is one level, every operator or function call adds
 * one. {@code AND} and {@code OR} chains are n-ary (Calcite flattens them), so
 * {@code a = 1 OR a = 2 OR ... OR a = 2000} has two levels.
 *
 * <p>Two checks: {@link #check(SqlNode)} on the parse tree, before validation, with the
 * position of the expression (and it keeps absurdly deep trees away from Calcite's recursive
 * validator); {@link #checkJson} on the JSON the planner writes, which is what the runtime
 * compiles (a conversion may add a level, e.g. an implicit CAST).
 */
public final class ExpressionDepth {
  /** The most levels an expression may have; documented in docs/cql.md. */
  public static final int MAX_LEVELS = 100;

  private ExpressionDepth() {
  }

  /** The deepest expression of a statement and its depth. */
  public static final class Deepest {
    public final int levels;
    public final SqlNode node;

    Deepest(int levels, SqlNode node) {
      this.levels = levels;
      this.node = node;
    }
  }

  /** Throws a validation error at the first expression of {@code stmt} deeper than the limit. */
  public static void check(SqlNode stmt) {
    Deepest d = deepest(stmt);
    if (d != null && d.levels > MAX_LEVELS) {
      throw tooDeep(d.levels, d.node.getParserPosition());
    }
  }

  /** The deepest expression in {@code stmt} (null when it has none). */
  public static Deepest deepest(SqlNode stmt) {
    Walker w = new Walker();
    w.root(stmt);
    return w.best;
  }

  /**
   * Throws when an expression of the JSON envelope (plan operators, insert rows, conditions)
   * is deeper than the limit; the position is that of the deepest expression of the statement.
   */
  public static void checkJson(JsonNode envelope, SqlNode stmt) {
    int levels = maxJsonLevels(envelope);
    if (levels > MAX_LEVELS) {
      Deepest d = stmt == null ? null : deepest(stmt);
      throw tooDeep(levels, d == null ? null : d.node.getParserPosition());
    }
  }

  public static CqlPlannerError tooDeep(int levels, SqlParserPos pos) {
    return CqlPlannerError.validate(pos, "expression is too deep: " + levels
        + " levels, at most " + MAX_LEVELS);
  }

  // ----------------------------------------------------------------- the parse tree

  /** Kinds that are not a level of the expression they stand in. */
  private static boolean transparent(SqlNode n) {
    if (n instanceof SqlNodeList) {
      return true;
    }
    switch (n.getKind()) {
    case AS:
    case DESCENDING:
    case NULLS_FIRST:
    case NULLS_LAST:
      return true;
    default:
      return false;
    }
  }

  /** Nodes whose operands are clauses, each a new expression (queries, DML, DDL, FROM). */
  private static boolean structural(SqlNode n) {
    if (!(n instanceof SqlCall)) {
      return false;
    }
    if (n instanceof SqlCqlRelToStream || n instanceof SqlCqlWindow || n instanceof SqlShowCql) {
      return true;
    }
    SqlKind k = n.getKind();
    return k.belongsTo(SqlKind.QUERY) || k.belongsTo(SqlKind.DML) || k.belongsTo(SqlKind.DDL)
        || k == SqlKind.JOIN || k == SqlKind.WITH || k == SqlKind.WITH_ITEM
        || k == SqlKind.EXPLAIN || k == SqlKind.OVER || k == SqlKind.VALUES
        || k == SqlKind.COLLECTION_TABLE || k == SqlKind.DESCRIBE_TABLE;
  }

  private static final class Walker {
    Deepest best;

    /** A clause of a structural node: each of its expressions is measured on its own. */
    void root(SqlNode n) {
      if (n == null) {
        return;
      }
      if (n instanceof SqlNodeList || structural(n) || n.getKind() == SqlKind.ROW) {
        // (a ROW met as a clause is a row of VALUES: each value is an expression)
        for (SqlNode c : operands(n)) {
          root(c);
        }
        return;
      }
      int d = measure(n);
      if (best == null || d > best.levels) {
        best = new Deepest(d, n);
      }
    }

    /** The levels of expression {@code n}; its subqueries are roots of their own. */
    int measure(SqlNode n) {
      if (n == null) {
        return 0;
      }
      if (structural(n)) {
        root(n);
        return 1;
      }
      if (!(n instanceof SqlCall) && !(n instanceof SqlNodeList)) {
        return 1;  // identifier, literal, parameter, type, interval qualifier
      }
      if (transparent(n)) {
        int m = 0;
        for (SqlNode c : operands(n)) {
          m = Math.max(m, measure(c));
        }
        return m;
      }
      SqlCall call = (SqlCall) n;
      int m = 0;
      if (call.getKind() == SqlKind.AND || call.getKind() == SqlKind.OR) {
        // a chain of one of them is one n-ary level: walk it without recursion
        Deque<SqlNode> todo = new ArrayDeque<>(call.getOperandList());
        while (!todo.isEmpty()) {
          SqlNode c = todo.pop();
          if (c != null && c.getKind() == call.getKind() && c instanceof SqlCall) {
            for (SqlNode cc : ((SqlCall) c).getOperandList()) {
              todo.push(cc);
            }
          } else {
            m = Math.max(m, measure(c));
          }
        }
      } else {
        for (SqlNode c : call.getOperandList()) {
          m = Math.max(m, measure(c));
        }
      }
      return 1 + m;
    }

    private static Iterable<SqlNode> operands(SqlNode n) {
      if (n instanceof SqlNodeList) {
        return ((SqlNodeList) n).getList();
      }
      java.util.List<SqlNode> out = new java.util.ArrayList<>();
      for (SqlNode c : ((SqlCall) n).getOperandList()) {
        if (c != null) {
          out.add(c);
        }
      }
      return out;
    }
  }

  // ------------------------------------------------------------------------- JSON

  /** The levels of the deepest expression anywhere in {@code node} (0 if there is none). */
  static int maxJsonLevels(JsonNode node) {
    if (node == null || !node.isContainerNode()) {
      return 0;
    }
    if (node.isObject() && node.has("kind") && node.get("kind").isTextual()) {
      String kind = node.get("kind").asText();
      if (kind.equals("call")) {
        int m = 0;
        for (JsonNode operand : node.path("operands")) {
          m = Math.max(m, maxJsonLevels(operand));
        }
        return 1 + m;
      }
      if (kind.equals("input") || kind.equals("literal") || kind.equals("param")) {
        return 1;
      }
    }
    int m = 0;
    for (JsonNode child : node) {
      m = Math.max(m, maxJsonLevels(child));
    }
    return m;
  }
}
