import { gql } from "./client";

// AI: write the query document that loads a product page: the product with each
// variant's label and how many are left in stock.
export const PRODUCT_PAGE = gql``;

// AI: write the mutation that changes where a customer's parcels are delivered.
export const UPDATE_ADDRESS = gql``;
