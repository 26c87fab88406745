// A CommonJS style task that reports failures with Ratchet's typed errors.
const CATALOGUE = {
  "sku-1": { name: "Notebook", price: 4.5, stock: 100 },
  "sku-2": { name: "Pen", price: 1.25, stock: 0 },
  "sku-3": { name: "Backpack", price: 39.9, stock: 3 },
};

module.exports = function (input) {
  if (!Array.isArray(input.items) || input.items.length === 0) {
    throw new ValidationError("an order needs at least one item");
  }
  let total = 0;
  const lines = input.items.map((item, i) => {
    if (!Number.isInteger(item.quantity) || item.quantity < 1) {
      throw new ValidationError(`item ${i}: quantity must be a positive whole number`, { index: i });
    }
    const product = CATALOGUE[item.sku];
    if (!product) {
      throw new NotFoundError(`item ${i}: no product ${item.sku}`);
    }
    if (product.stock < item.quantity) {
      throw new DataError(`item ${i}: only ${product.stock} ${product.name} in stock`, { sku: item.sku });
    }
    const amount = Math.round(product.price * item.quantity * 100) / 100;
    total += amount;
    return { sku: item.sku, name: product.name, quantity: item.quantity, amount: amount };
  });
  if (input.coupon !== undefined && input.coupon !== "WELCOME10") {
    throw new HttpError(402, `coupon ${input.coupon} is not valid`);
  }
  const discount = input.coupon ? Math.round(total * 10) / 100 : 0;
  return { lines: lines, total: Math.round((total - discount) * 100) / 100, discount: discount };
};
