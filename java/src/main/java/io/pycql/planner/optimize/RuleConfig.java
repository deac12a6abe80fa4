package io.pycql.planner.optimize;

import java.util.Objects;
import java.util.function.Function;
import org.apache.calcite.plan.RelOptRule;
import org.apache.calcite.plan.RelRule;
import org.apache.calcite.rel.core.RelFactories;
import org.apache.calcite.tools.RelBuilderFactory;

/**
 * A plain, immutable {@link RelRule.Config} for pycql's rules (Calcite's own rules use
 * generated Immutables classes; this project has no annotation processor).
 *
 * <pre>{@code
 * static final RuleConfig DEFAULT = RuleConfig.of("FilterWindowTransposeRule",
 *     b -> b.operand(Filter.class).oneInput(w -> w.operand(CqlWindow.class).anyInputs()),
 *     FilterWindowTransposeRule::new);
 * }</pre>
 */
public final class RuleConfig implements RelRule.Config {
  private final String description;
  private final RelRule.OperandTransform operands;
  private final RelBuilderFactory relBuilderFactory;
  private final Function<RuleConfig, RelOptRule> factory;

  private RuleConfig(String description, RelRule.OperandTransform operands,
      RelBuilderFactory relBuilderFactory, Function<RuleConfig, RelOptRule> factory) {
    this.description = Objects.requireNonNull(description, "description");
    this.operands = Objects.requireNonNull(operands, "operands");
    this.relBuilderFactory = Objects.requireNonNull(relBuilderFactory, "relBuilderFactory");
    this.factory = Objects.requireNonNull(factory, "factory");
  }

  /** A config with the logical RelBuilder; {@code factory} builds the rule from it. */
  public static RuleConfig of(String description, RelRule.OperandTransform operands,
      Function<RuleConfig, RelOptRule> factory) {
    return new RuleConfig(description, operands, RelFactories.LOGICAL_BUILDER, factory);
  }

  @Override public RelOptRule toRule() {
    return factory.apply(this);
  }

  @Override public RelBuilderFactory relBuilderFactory() {
    return relBuilderFactory;
  }

  @Override public RuleConfig withRelBuilderFactory(RelBuilderFactory f) {
    return new RuleConfig(description, operands, f, factory);
  }

  @Override public String description() {
    return description;
  }

  @Override public RuleConfig withDescription(String d) {
    return new RuleConfig(d, operands, relBuilderFactory, factory);
  }

  @Override public RelRule.OperandTransform operandSupplier() {
    return operands;
  }

  @Override public RuleConfig withOperandSupplier(RelRule.OperandTransform t) {
    return new RuleConfig(description, t, relBuilderFactory, factory);
  }
}
