/**
 * The small hand-written part of the rules model: English function words, the wording of budgets,
 * references and dialogue acts, and a synonym table. Product names and option values are never
 * listed here; they come from the catalog vocabulary.
 */

/** Words that carry no product meaning; never keywords. */
export const STOPWORDS = new Set(
  `a an the some any this that these those it its it's itself i i'd i'm im i've i'll me my mine myself we we're our us
  you you're your yours he she him her his they them their to for of in on at by from with into onto about as than then
  and or nor but so if is are be been being was were am do does did doing done have has had having get got getting
  want wants wanted wanna need needs needed like likes would could should can can't cannot will shall may might must
  please pls plz thanks thank thx looking look find finding show showing search searching shop shopping browse see
  buy buying purchase purchasing order ordering give just also really very quite pretty too one ones what what's whats
  which who how there here where when why all each every other another same such own well um uh hey hi hello dear
  now today tonight asap quickly fast immediately right away soon don't dont ask asking anything else tell let let's lets
  make made work works working use using used kind sort maybe perhaps prefer preferably ideally rather either both only
  more most less least gonna going go recommend suggest suggestion suggestions option options choice choices available
  stock new buy yourself myself someone something something's thing things stuff item items product products it'd
  should've that's there's here's where's who's isn't aren't wasn't weren't doesn't didn't won't wouldn't couldn't
  shouldn't haven't hasn't hadn't must've etc ok okay yes yeah no not none still ever even just exactly actually
  keep keeping stay make sure needs better best instead change switch swap rest way lot lots bit little much many few
  has having ideally definitely probably possibly otherwise too around maybe ones kinds types sorts versions version
  model models something's somewhere anywhere everything got gotta hoping hope trying try wish wishing wondering
  interested considering thinking think guess suppose mean means fit fits fitting goes go went come comes`.split(/\s+/),
);

/** Words of a wish too vague to search on ("something nice", "a gift"). */
export const VAGUE_WORDS = new Set(
  `something anything stuff thing things item items product products nice good great cool awesome best better lovely
  beautiful pretty gift gifts present presents idea ideas surprise recommendation recommendations fun interesting
  special useful random whatever popular trending new quality decent fancy neat sweet perfect amazing unique`.split(
    /\s+/,
  ),
);

/** Negation cues; their scope runs to the next clause boundary. */
export const NEGATION_CUES = new Set([
  'not',
  'no',
  'without',
  'nothing',
  'never',
  'avoid',
  'except',
  'excluding',
  "don't",
  'dont',
  "isn't",
  "aren't",
  "doesn't",
  "won't",
  'non',
  'neither',
  'nor',
  'minus',
  'hate',
  'dislike',
]);
/** Two-word negation cues whose first word alone would be ambiguous. */
export const NEGATION_PHRASES = [
  ['other', 'than'],
  ['anything', 'but'],
  ['instead', 'of'],
  ['rather', 'than'],
  ['free', 'of'],
];

/** Words that end a negation's scope: "not leather, but size 9" negates leather only. */
export const CLAUSE_BOUNDARY_WORDS = new Set(['but', 'and', 'though', 'however', 'yet', 'also', 'plus', 'while']);

/** "cheap", "good deal": rank cheapest first. Multi-word entries are matched as phrases. */
export const PRICE_SENSITIVE_PHRASES = [
  ['cheap'],
  ['cheaper'],
  ['cheapest'],
  ['cheaply'],
  ['inexpensive'],
  ['affordable'],
  ['bargain'],
  ['deal'],
  ['good', 'deal'],
  ['great', 'deal'],
  ['best', 'deal'],
  ['good', 'price'],
  ['best', 'price'],
  ['great', 'price'],
  ['deals'],
  ['economical'],
  ['budget'],
  ['thrifty'],
  ['low', 'cost'],
  ['low', 'price'],
  ['low', 'priced'],
  ['lowest', 'price'],
  ['lowest', 'priced'],
  ['least', 'expensive'],
  ['not', 'expensive'],
  ['not', 'too', 'expensive'],
  ['good', 'value'],
  ['best', 'value'],
  ['value', 'for', 'money'],
  ['save', 'money'],
  ['cost', 'effective'],
  ['budget', 'friendly'],
  ['on', 'a', 'budget'],
  ['wallet', 'friendly'],
];

export type PriceCue = 'max' | 'min' | 'approx';

/** Words before an amount that say what the amount bounds. */
export const PRICE_PREFIX_CUES: Array<[string[], PriceCue]> = [
  [['under'], 'max'],
  [['below'], 'max'],
  [['beneath'], 'max'],
  [['less', 'than'], 'max'],
  [['lower', 'than'], 'max'],
  [['cheaper', 'than'], 'max'],
  [['nothing', 'more', 'expensive', 'than'], 'max'],
  [['no', 'more', 'expensive', 'than'], 'max'],
  [['not', 'more', 'expensive', 'than'], 'max'],
  [['more', 'expensive', 'than'], 'min'],
  [['at', 'most'], 'max'],
  [['max'], 'max'],
  [['maximum'], 'max'],
  [['up', 'to'], 'max'],
  [['no', 'more', 'than'], 'max'],
  [['not', 'more', 'than'], 'max'],
  [['nothing', 'more', 'than'], 'max'],
  [['no', 'higher', 'than'], 'max'],
  [['not', 'over'], 'max'],
  [['not', 'above'], 'max'],
  [['nothing', 'over'], 'max'],
  [['nothing', 'above'], 'max'],
  [['within'], 'max'],
  [['budget'], 'max'],
  [['budget', 'of'], 'max'],
  [['budget', 'is'], 'max'],
  [['spend'], 'max'],
  [['spending'], 'max'],
  [['afford'], 'max'],
  [['<'], 'max'],
  [['<', '='], 'max'],
  [['over'], 'min'],
  [['above'], 'min'],
  [['more', 'than'], 'min'],
  [['higher', 'than'], 'min'],
  [['at', 'least'], 'min'],
  [['min'], 'min'],
  [['minimum'], 'min'],
  [['starting', 'at'], 'min'],
  [['starting', 'from'], 'min'],
  [['no', 'less', 'than'], 'min'],
  [['not', 'less', 'than'], 'min'],
  [['not', 'under'], 'min'],
  [['not', 'below'], 'min'],
  [['nothing', 'under'], 'min'],
  [['nothing', 'below'], 'min'],
  [['>'], 'min'],
  [['>', '='], 'min'],
  [['around'], 'approx'],
  [['about'], 'approx'],
  [['approximately'], 'approx'],
  [['approx'], 'approx'],
  [['roughly'], 'approx'],
  [['~'], 'approx'],
  [['close', 'to'], 'approx'],
  [['near'], 'approx'],
  [['something', 'like'], 'approx'],
];

/** Words after an amount that say what it bounds ("$200 or less", "50 bucks tops"). */
export const PRICE_SUFFIX_CUES: Array<[string[], PriceCue]> = [
  [['or', 'less'], 'max'],
  [['or', 'under'], 'max'],
  [['or', 'below'], 'max'],
  [['or', 'cheaper'], 'max'],
  [['max'], 'max'],
  [['maximum'], 'max'],
  [['tops'], 'max'],
  [['at', 'most'], 'max'],
  [['or', 'more'], 'min'],
  [['or', 'above'], 'min'],
  [['or', 'over'], 'min'],
  [['and', 'up'], 'min'],
  [['and', 'above'], 'min'],
  [['plus'], 'min'],
  [['+'], 'min'],
  [['minimum'], 'min'],
  [['at', 'least'], 'min'],
  [['or', 'so'], 'approx'],
  [['ish'], 'approx'],
  [['give', 'or', 'take'], 'approx'],
];

/** Words that make a bare number an amount of money. */
export const CURRENCY_WORDS = new Set(['dollar', 'dollars', 'bucks', 'buck', 'usd']);
/** Words that say the clause is about price, so "between 95 and 100" is dollars. */
export const PRICE_CONTEXT_WORDS = new Set(['price', 'priced', 'cost', 'costs', 'costing', 'budget', 'spend', 'pay']);

export const NUMBER_WORDS: Record<string, number> = {
  one: 1,
  two: 2,
  three: 3,
  four: 4,
  five: 5,
  six: 6,
  seven: 7,
  eight: 8,
  nine: 9,
  ten: 10,
  eleven: 11,
  twelve: 12,
  dozen: 12,
  couple: 2,
  single: 1,
};

export const ORDINALS: Record<string, number> = {
  first: 1,
  '1st': 1,
  second: 2,
  '2nd': 2,
  third: 3,
  '3rd': 3,
  fourth: 4,
  '4th': 4,
  fifth: 5,
  '5th': 5,
  sixth: 6,
  '6th': 6,
  seventh: 7,
  '7th': 7,
  eighth: 8,
  '8th': 8,
  ninth: 9,
  '9th': 9,
  tenth: 10,
  '10th': 10,
};

/**
 * Shopper words for catalog products. Each entry applies only when the vocabulary has the product
 * (and the option value, if one is implied), so the table cannot invent an item the catalog lacks.
 * Nouns of products that are not sold (TV, sofa) are deliberately absent: they must reach the
 * catalog as themselves and come back as no match, never as a near neighbour.
 */
export const PRODUCT_SYNONYMS: Array<{ phrases: string[]; products: string[]; options?: Record<string, string[]> }> = [
  {
    phrases: ['earbuds', 'ear buds', 'earphones', 'ear phones', 'earpods', 'airpods', 'in ear buds'],
    products: ['Wireless Earbuds'],
  },
  { phrases: ['trainers', 'running shoe', 'running sneakers', 'jogging shoes'], products: ['Running Shoes'] },
  { phrases: ['trainers', 'sneaker', 'kicks'], products: ['Sneakers'] },
  // The shoes the catalog sells; a bare "shoes" is either of them.
  { phrases: ['shoes', 'shoe'], products: ['Running Shoes', 'Sneakers'] },
  {
    phrases: ['french press', 'cafetiere', 'press pot'],
    products: ['Coffee Maker'],
    options: { type: ['french press'] },
  },
  {
    phrases: ['drip coffee maker', 'drip coffee machine', 'filter coffee maker'],
    products: ['Coffee Maker'],
    options: { type: ['drip'] },
  },
  { phrases: ['coffee machine', 'coffeemaker', 'coffee brewer'], products: ['Coffee Maker'] },
  { phrases: ['espresso maker', 'espresso machines', 'espresso coffee machine'], products: ['Espresso Machine'] },
  { phrases: ['kettle', 'kettles'], products: ['Electric Kettle', 'Tea Kettle'] },
  { phrases: ['teakettle', 'stovetop kettle', 'stove top kettle', 'whistling kettle'], products: ['Tea Kettle'] },
  { phrases: ['vacuum', 'hoover', 'vacuums'], products: ['Vacuum Cleaner'] },
  {
    phrases: ['robot vacuum', 'robotic vacuum', 'roomba'],
    products: ['Vacuum Cleaner'],
    options: { type: ['robotic'] },
  },
  {
    phrases: ['phone', 'cell phone', 'cellphone', 'mobile phone', 'smart phone', 'iphone', 'android phone'],
    products: ['Smartphone'],
  },
  { phrases: ['puzzle', 'jigsaw'], products: ['Jigsaw Puzzle'] },
  { phrases: ['skate board', 'skate'], products: ['Skateboard'] },
  { phrases: ['rucksack', 'back pack', 'knapsack', 'daypack'], products: ['Backpack'] },
  { phrases: ['light bulb', 'lightbulb', 'bulb', 'smart bulb', 'led bulb'], products: ['LED Light Bulb'] },
  { phrases: ['dog bed', 'cat bed', 'pet bed'], products: ['Pet Bed'] },
  { phrases: ['notepad', 'journal', 'exercise book'], products: ['Notebook'] },
  {
    phrases: ['security camera', 'security cam', 'home camera', 'indoor camera', 'surveillance camera'],
    products: ['Indoor Security Camera'],
  },
  { phrases: ['action cam', 'gopro', 'sports camera'], products: ['Action Camera'] },
  { phrases: ['ereader', 'e reader', 'ebook reader', 'e book reader', 'kindle'], products: ['E-Reader'] },
  { phrases: ['purifier'], products: ['Air Purifier'] },
  { phrases: ['exercise mat', 'pilates mat'], products: ['Yoga Mat'] },
  { phrases: ['notebook computer', 'laptop computer', 'macbook'], products: ['Laptop'] },
  { phrases: ['speaker', 'portable speaker', 'wireless speaker'], products: ['Bluetooth Speaker'] },
  { phrases: ['desk chair', 'computer chair', 'work chair'], products: ['Office Chair'] },
  { phrases: ['thermostat'], products: ['Smart Thermostat'] },
  { phrases: ['makeup', 'make up', 'make up kit', 'cosmetics kit', 'cosmetics'], products: ['Makeup Kit'] },
  { phrases: ['luggage', 'suitcase', 'suitcases'], products: ['Luggage Set'] },
  { phrases: ['mouse', 'computer mouse'], products: ['Gaming Mouse'] },
  { phrases: ['watch', 'wrist watch'], products: ['Wristwatch', 'Smart Watch'] },
  { phrases: ['smartwatch', 'fitness watch'], products: ['Smart Watch'] },
  { phrases: ['hose', 'hosepipe'], products: ['Garden Hose'] },
  { phrases: ['lamp', 'reading lamp', 'table lamp'], products: ['Desk Lamp'] },
  { phrases: ['bbq', 'barbecue', 'barbeque'], products: ['Grill'] },
  { phrases: ['fragrance', 'cologne', 'eau de parfum', 'scent'], products: ['Perfume'] },
  { phrases: ['power bank', 'powerbank', 'battery pack', 'charger'], products: ['Portable Charger'] },
  { phrases: ['headset', 'headphone'], products: ['Headphones'] },
  { phrases: ['dumbbell', 'dumbbells', 'free weights', 'weights'], products: ['Dumbbell Set'] },
  { phrases: ['sun glasses', 'shades'], products: ['Sunglasses'] },
  { phrases: ['toothbrush', 'tooth brush'], products: ['Electric Toothbrush'] },
  { phrases: ['boots', 'hiking boot', 'walking boots'], products: ['Hiking Boots'] },
  { phrases: ['helmet', 'bike helmet', 'bicycle helmet'], products: ['Cycling Helmet'] },
  { phrases: ['ipad'], products: ['Tablet'] },
  { phrases: ['bottle', 'drinking bottle'], products: ['Water Bottle'] },
  { phrases: ['fleece', 'jacket'], products: ['Fleece Jacket'] },
  { phrases: ['bookcase', 'book shelf', 'shelf', 'shelves', 'shelving unit'], products: ['Bookshelf'] },
  { phrases: ['camera'], products: ['Digital Camera', 'Action Camera', 'Indoor Security Camera'] },
  { phrases: ['dslr', 'mirrorless camera', 'photo camera'], products: ['Digital Camera'] },
  { phrases: ['tshirt', 't shirt', 'tee', 'tee shirt', 'tees'], products: ['T-Shirt'] },
  { phrases: ['umbrella', 'parasol', 'sun umbrella'], products: ['Patio Umbrella'] },
  { phrases: ['bike', 'cycle'], products: ['Bicycle'] },
  { phrases: ['mountain bike', 'mtb'], products: ['Bicycle'], options: { type: ['mountain'] } },
  { phrases: ['road bike', 'racing bike'], products: ['Bicycle'], options: { type: ['road'] } },
  { phrases: ['clock'], products: ['Wall Clock'] },
  { phrases: ['keyboard'], products: ['Mechanical Keyboard'] },
  { phrases: ['grill'], products: ['Grill'] },
];

/**
 * Last words of product names too generic to name the product alone: "a machine", "a set", "a
 * bed" (Pet Bed is not a bed for people), "a cleaner", "a maker".
 */
export const GENERIC_HEADS = new Set(['machine', 'maker', 'set', 'kit', 'bed', 'cleaner', 'shoe', 'mat', 'reader']);

/** Words that never become a one-word alias of a multi-word option value ("mesh back" is not "high-back"). */
export const GENERIC_VALUE_WORDS = new Set(
  `back size type mode cover equivalent card piece set kit color colour inch inches brand level built in on over with
  and the a of no not non none yes high low medium tilt operation`.split(/\s+/),
);

/**
 * Shopper phrases for an option, by a pattern on the option's name: "waterproof" means the
 * water-resistance option is not "no". Positive mentions require the option's positive values;
 * negated ones ("no backlight") its negative values.
 */
export const OPTION_CONCEPTS: Array<{ phrases: string[]; option: RegExp }> = [
  {
    phrases: [
      'waterproof',
      'water proof',
      'water resistant',
      'water resistance',
      'water resistent',
      'splash proof',
      'splashproof',
      'water repellent',
    ],
    option: /water/,
  },
  { phrases: ['backlit', 'backlight', 'backlighting', 'backlights', 'illuminated'], option: /backlight/ },
];

/** Letter sizes in words, used when a product's size option spells sizes as letters. */
export const SIZE_WORDS: Record<string, string[]> = {
  xs: ['extra small', 'x small', 'xsmall'],
  s: ['small'],
  m: ['medium', 'med'],
  l: ['large'],
  xl: ['extra large', 'x large', 'xlarge'],
  xxl: ['extra extra large', 'xx large', 'xxlarge', '2xl'],
};

/** Nouns of things the catalog does not sell; never "corrected" into a catalog word by typo repair. */
export const UNSOLD_NOUNS = new Set(
  `tv tvs television televisions sofa couch table tables bed beds fridge refrigerator microwave toaster blender car cars
  desk desks mattress rug carpet cable cables printer monitor console playstation xbox drone guitar piano tent stove
  oven dishwasher washer dryer book books pen pens jeans dress shirt shirts hat hats socks ring necklace bracelet
  mirror plant plants toy toys game games `.split(/\s+/),
);
