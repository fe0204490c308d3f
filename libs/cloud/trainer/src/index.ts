export { headProbabilities, type LinearHead } from './linear-head';
