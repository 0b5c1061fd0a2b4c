export type { CartoonOptions, CartoonOptionsInput } from './cartoon.ts';
export { cartoon } from './cartoon.ts';
export type { BuiltInGrade, CinematicOptions, CinematicOptionsInput } from './cinematic.ts';
export { BUILT_IN_GRADES, cinematic } from './cinematic.ts';
export type { ComicOptions, ComicOptionsInput } from './comic.ts';
export { comic } from './comic.ts';
export type { StylizersErrorCode } from './errors.ts';
export { STYLIZERS_ERRORS, StylizerOptionsError, StylizersError, UnknownStylizerError } from './errors.ts';
export { identity } from './identity.ts';
export type {
  ColorPencilOptions,
  ColorPencilOptionsInput,
  PencilOptions,
  PencilOptionsInput,
} from './pencil.ts';
export { colorPencil, PaperImageError, pencil } from './pencil.ts';
export type { Random } from './random.ts';
export { createRandom } from './random.ts';
export { getStylizer, knownStylizers, listStylizers, loadStylizer, registerStylizer } from './registry.ts';
export type {
  ReducedPainting,
  Stylizer,
  StylizerContext,
  StylizerDevice,
  StylizerInputFormat,
  StylizerInstance,
  StylizerPreset,
  StylizerResources,
} from './stylizer.ts';
export {
  frameForStyle,
  issueText,
  parseStylizerOptions,
  stylizerOptionNames,
  validateStylizerOptions,
} from './stylizer.ts';

import { cartoon } from './cartoon.ts';
import { cinematic } from './cinematic.ts';
import { comic } from './comic.ts';
import { identity } from './identity.ts';
import { colorPencil, pencil } from './pencil.ts';
import { registerStylizer } from './registry.ts';

// Built-in styles register themselves when the package is imported.
registerStylizer(identity);
registerStylizer(pencil);
registerStylizer(colorPencil);
registerStylizer(cinematic);
registerStylizer(comic);
registerStylizer(cartoon);
