import { FramecraftError } from '@framecraft/core';

/** Raised when a style name is not registered. */
export class UnknownStylizerError extends FramecraftError {
  /** The name asked for. */
  readonly styleName: string;

  /**
   * Create the error.
   *
   * @param name - The unknown name.
   * @param known - The registered names, for the message.
   */
  constructor(name: string, known: readonly string[]) {
    super(
      'ERR_UNKNOWN_STYLE',
      `Unknown style "${name}". Available styles: ${known.join(', ') || 'none registered'}.`,
    );
    this.name = 'UnknownStylizerError';
    this.styleName = name;
  }
}

/** Raised when style options do not match the style's schema. */
export class StylizerOptionsError extends FramecraftError {
  /** One line per problem: `field: message`. */
  readonly issues: readonly string[];

  /**
   * Create the error.
   *
   * @param style - The style whose options were checked.
   * @param issues - The problems, each naming its field.
   */
  constructor(style: string, issues: readonly string[]) {
    super('ERR_STYLE_OPTIONS', `Invalid options for style "${style}": ${issues.join('; ')}`);
    this.name = 'StylizerOptionsError';
    this.issues = issues;
  }
}
