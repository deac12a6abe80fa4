package io.pycql.planner.ddl;

import java.util.List;
import org.apache.calcite.sql.SqlDrop;
import org.apache.calcite.sql.SqlIdentifier;
import org.apache.calcite.sql.SqlKind;
import org.apache.calcite.sql.SqlNode;
import org.apache.calcite.sql.SqlOperator;
import org.apache.calcite.sql.SqlSpecialOperator;
import org.apache.calcite.sql.SqlWriter;
import org.apache.calcite.sql.parser.SqlParserPos;

/** {@code DROP STREAM|TABLE|VIEW [IF EXISTS] name}. */
public final class SqlDropCqlObject extends SqlDrop {
  private static final SqlOperator OPERATOR = new SqlSpecialOperator("DROP", SqlKind.OTHER_DDL);

  /** "stream", "table" or "view". */
  public final String object;
  public final SqlIdentifier name;

  public SqlDropCqlObject(SqlParserPos pos, String object, boolean ifExists, SqlIdentifier name) {
    super(OPERATOR, pos, ifExists);
    this.object = object;
    this.name = name;
  }

  @Override public List<SqlNode> getOperandList() {
    return List.of(name);
  }

  @Override public void unparse(SqlWriter writer, int leftPrec, int rightPrec) {
    writer.keyword("DROP");
    writer.keyword(object.toUpperCase(java.util.Locale.ROOT));
    name.unparse(writer, 0, 0);
  }
}
