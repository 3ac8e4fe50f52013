// Entry of the classic-script bundle (dist/holdfast.js): defines globalThis.Holdfast, the
// object a plain <script src="holdfast.js"> has always defined.
import Holdfast from './index.js';

globalThis.Holdfast = Holdfast;
