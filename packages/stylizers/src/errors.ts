import { FramecraftError } from '@framecraft/core';

/** Every code @framecraft/stylizers raises, with what it means. */
export const STYLIZERS_ERRORS = {
  ERR_UNKNOWN_STYLE: 'no style has this name',
  ERR_LUT_PARSE: "the cinematic style's .cube file is malformed",
  ERR_STYLE_OPTIONS: "a style's options do not match its schema",
  ERR_LUT_NOT_FOUND: 'the .cube file named by the cinematic style does not exist',
  ERR_PAPER_IMAGE: "the pencil style's paper texture cannot be read",
  ERR_MODEL_NOT_FOUND: "the neural style's model file does not exist",
} as const;

/** A code @framecraft/stylizers raises. */
export type StylizersErrorCode = keyof typeof STYLIZERS_ERRORS;

/** An error @framecraft/stylizers raises on purpose, its code checked against {@link STYLIZERS_ERRORS}. */
export class StylizersError extends FramecraftError<StylizersErrorCode> {}

/** Raised when a style name is not registered. */
export class UnknownStylizerError extends FramecraftError<StylizersErrorCode> {
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
export class StylizerOptionsError extends FramecraftError<StylizersErrorCode> {
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
